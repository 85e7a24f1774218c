"""Load tests, SLA checks, benchmarks and capacity planning for txclassify.

Nothing here is a runtime dependency of the service: these modules drive it from the outside
(Locust, an open-loop load generator, the Kubernetes API) or model it offline (the HPA replay).
"""
