"""txclassify model pipeline: data generator, teacher, distillation, export, quantisation, gate, bundles.

Installed with the ``[train]`` extra. It imports the serving package (``service.normalize``,
``service.bundle``); the serving package never imports it.
"""
