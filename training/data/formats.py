"""Narration templates per channel and country, and the random fields that fill them.

A template is a ``str.format`` pattern; ``{m}`` is the entity (merchant, employer, lender, fee) and
``{p}`` a person. Every other field (dates, references, masked cards, cities, store numbers, processor
prefixes) is drawn on demand by :class:`Fields`, so a template only pays for the fields it names.
"""

from __future__ import annotations

import random
import string

from training.data import vocabulary as v

__all__ = ["TEMPLATES", "Fields"]

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_PROCESSORS = (
    "SQ *",
    "TST* ",
    "PAYPAL *",
    "SP ",
    "PY *",
    "CKE*",
    "SUMUP *",
    "ZETTLE_*",
    "IZ *",
    "STRIPE*",
    "GOOGLE *",
)
_VPA_SUFFIXES = ("@okaxis", "@ybl", "@paytm", "@oksbi", "@okhdfcbank", "@ibl", "@axl", "@upi")
_MEMOS = (
    "RENT",
    "DINNER",
    "THANKS",
    "FOOD",
    "BILLS",
    "LOAN",
    "GIFT",
    "SCHOOL",
    "TRIP",
    "SHARE",
    "CONTRIB",
    "UPKEEP",
    "BDAY",
    "REFUND",
    "TFR",
    "MISC",
    "PAYBACK",
    "FOR TICKETS",
    "GROCERIES",
)
_STOCKS = (
    "AAPL",
    "MSFT",
    "VANGUARD FTSE",
    "ISHARES CORE",
    "RELIANCE IND",
    "ITC LTD",
    "DANGOTE CEM",
    "ALLIANZ SE",
    "TESCO PLC",
    "SPY",
    "VOO",
    "INFY",
)


class Fields(dict[str, str]):
    """Template fields drawn lazily from one RNG; fixed ones (``m``, ``p``, ``country``) are passed in."""

    def __init__(self, rng: random.Random, country: str, **fixed: str) -> None:
        super().__init__(fixed)
        self._rng = rng
        self._country = country

    def __missing__(self, key: str) -> str:
        value = self._draw(key)
        self[key] = value
        return value

    def _digits(self, n: int) -> str:
        return "".join(self._rng.choice(string.digits) for _ in range(n))

    def _alnum(self, n: int) -> str:
        return "".join(self._rng.choice(string.ascii_uppercase + string.digits) for _ in range(n))

    def _draw(self, key: str) -> str:
        r, c = self._rng, self._country
        day, month, year = r.randint(1, 28), r.randint(1, 12), r.choice((2023, 2024, 2025, 2026))
        if key.startswith("ref"):
            return self._digits(int(key[3:] or r.randint(6, 12)))
        if key == "aref":
            return self._alnum(r.randint(6, 12))
        if key in ("card4", "store4"):
            return self._digits(4)
        if key == "store":
            return r.choice(("#", "#", "STORE ", "NO ", "T", "")) + self._digits(r.randint(3, 5))
        if key == "mmdd":
            return f"{month:02d}/{day:02d}"
        if key == "ddmm":
            return f"{day:02d}/{month:02d}"
        if key == "date":
            return r.choice(
                (
                    f"{day:02d}-{month:02d}-{year}",
                    f"{day:02d}/{month:02d}/{year % 100:02d}",
                    f"{day:02d}{_MONTHS[month - 1]}{year % 100:02d}",
                    f"{year}-{month:02d}-{day:02d}",
                    f"{day:02d} {_MONTHS[month - 1]}",
                )
            )
        if key == "mon":
            return _MONTHS[month - 1]
        if key == "yyyy":
            return str(year)
        if key == "time":
            return f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}"
        if key == "city":
            return r.choice(v.CITIES[c])
        if key == "bank":
            return r.choice(v.BANKS[c])
        if key == "phone":
            return {
                "US": "800-" + self._digits(3) + "-" + self._digits(4),
                "NG": "080" + self._digits(8),
                "IN": "9" + self._digits(9),
            }.get(c, "0" + self._digits(10))
        if key == "proc":
            return r.choice(_PROCESSORS) if r.random() < 0.3 else ""
        if key == "vpa":
            return self["m"].lower().replace(" ", "")[:12] + r.choice(_VPA_SUFFIXES)
        if key == "pvpa":
            return self["p"].split()[0].lower() + self._digits(r.randint(0, 4)) + r.choice(_VPA_SUFFIXES)
        if key == "ifsc":
            return r.choice(("HDFC", "ICIC", "SBIN", "UTIB", "KKBK", "PUNB")) + "0" + self._digits(6)
        if key == "iban":
            return r.choice(("DE", "FR", "ES", "IT", "NL")) + self._digits(2) + "XXXX" + self._digits(4)
        if key == "memo":
            return r.choice(_MEMOS)
        if key == "me":
            first, last = v.PERSON_NAMES[c]
            return f"{r.choice(first)} {r.choice(last)}"
        if key == "cc":
            return r.choice(("DE", "FR", "ES", "IT", "NL", "BE", "AT"))
        if key == "stock":
            return r.choice(_STOCKS)
        if key == "desc":
            return r.choice(
                (
                    "PAYMENT",
                    "BILL PAY",
                    "AUTOPAY",
                    "ONLINE PMT",
                    "EPAY",
                    "WEB PMTS",
                    "ACH PMT",
                    "PREMIUM",
                    "DUES",
                    "RECURRING",
                )
            )
        raise KeyError(f"template field {key!r} has no maker; this is a bug")


def _t(*patterns: str) -> tuple[str, ...]:
    return patterns


#: channel -> country -> templates.
TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    "card": {
        "US": _t(
            "{proc}{m} {store} {city}",
            "{proc}{m} {city}",
            "POS DEBIT {proc}{m} {city}",
            "DEBIT CARD PURCHASE {m} {city}",
            "PURCHASE AUTHORIZED ON {mmdd} {proc}{m} {city} S{ref15} CARD {card4}",
            "CHECKCARD {mmdd} {proc}{m} {city} {ref16}",
            "POS PURCHASE - {m} {store} {city}",
            "{m} {phone}",
            "{m}",
            "{proc}{m} {store}",
            "VISA DDA PUR {ref6} {m} {city}",
            "DBT CRD {ref4} {mmdd} {m} {city}",
            "RECURRING PAYMENT AUTHORIZED ON {mmdd} {m} CARD {card4}",
            "{m} {mmdd}",
        ),
        "UK": _t(
            "CARD PAYMENT TO {m} ON {date}",
            "{m} {city} GB",
            "{m} {city}",
            "CONTACTLESS {m} {city}",
            "VIS {m} {city}",
            "POS {card4} {date} {m} {city} GB",
            "{m} ON {date} BCC",
            "{proc}{m} {city} GBR",
            "{m}",
            "CARD {card4} {m} {store}",
            "{m} {store} {city}",
            "DEB {m} {city}",
        ),
        "NG": _t(
            "POS PURCHASE {m} {city} NG",
            "POS/WEB PMT {m} {ref10}",
            "POS TRAN-{m}-{city}-NG",
            "WEB PURCHASE {m} LAGOS NG",
            "{m} {city} LANG",
            "PURCHASE AT {m} {city}",
            "POS {m} {ref8} {city} NG",
            "{m} POS {date}",
            "POS BUY {m}",
            "PAYSTACK {m}",
            "FLW*{m} {city}",
            "WEB PMT {m} {ref12}",
        ),
        "EU": _t(
            "KARTENZAHLUNG {m} {city}",
            "CB {m} {ddmm} {city}",
            "CARTE {ddmm} {m} {city}",
            "COMPRA TARJ. {card4} {m} {city}",
            "PAGAMENTO POS {m} {city}",
            "BETAALAUTOMAAT {m} {city}",
            "{m} {city} {cc}",
            "VISA {m} {city}",
            "GIROCARD {m} {city}",
            "DEBITKARTE {date} {m}",
            "{m}",
            "PAIEMENT CB {m} {city}",
            "{proc}{m} {city}",
        ),
        "IN": _t(
            "POS {card4}XXXXXX{card4} {m}",
            "POS {ref6} {m} {city}",
            "UPI/{ref12}/{m}/{vpa}/Payment",
            "UPI-{m}-{vpa}-{ifsc}-{ref12}-PAYMENT",
            "UPI/DR/{ref12}/{m}/{vpa}",
            "ECOM PUR/{m}/{date}",
            "PCD/{card4}/{m}/{city}",
            "{m} {city} IN",
            "VPS/{m}/{ref12}",
            "IPS/{m}/{city}",
            "UPI/{ref12}/PAYMENT FROM PHONE/{m}",
        ),
    },
    "bill": {
        "US": _t(
            "{m} DES:{desc} ID:{ref10} INDN:{me} CO ID:{ref10} PPD",
            "ACH DEBIT {m} {desc}",
            "ONLINE PAYMENT TO {m}",
            "ORIG CO NAME:{m} ORIG ID:{ref10} DESC DATE:{mmdd} CO ENTRY DESCR:{desc} SEC:WEB",
            "{m} AUTOPAY {ref8}",
            "BILL PAYMENT {m} CONF#{aref}",
            "ELECTRONIC WITHDRAWAL {m}",
            "WEB PMT {m}",
            "{m} {desc} {ref10}",
            "{m} ACH {desc}",
        ),
        "UK": _t(
            "DD {m}",
            "DIRECT DEBIT {m} {ref8}",
            "{m} DDR",
            "SO {m}",
            "BP {m} {aref}",
            "{m} {ref8} DD",
            "BILL PAYMENT TO {m} REFERENCE {aref}",
            "STANDING ORDER {m}",
            "DIRECT DEBIT PAYMENT TO {m} REF {aref}",
        ),
        "NG": _t(
            "{m} BILL PAYMENT {ref10}",
            "QUICKTELLER {m} {ref10}",
            "PAYSTACK {m}",
            "FLW {m} {ref10}",
            "REMITA {m} {ref12}",
            "WEB PMT {m}",
            "USSD {m} PAYMENT",
            "DIRECT DEBIT {m}",
            "BILLS PAYMENT-{m}-{ref10}",
        ),
        "EU": _t(
            "SEPA-LASTSCHRIFT {m} MANDAT {aref}",
            "LASTSCHRIFT {m} {ref10}",
            "PRLV SEPA {m} {aref}",
            "RECIBO {m} {ref10}",
            "ADDEBITO SDD {m}",
            "INCASSO {m} {ref10}",
            "SEPA DD {m} CRED ID {aref}",
            "DAUERAUFTRAG {m}",
            "FOLGELASTSCHRIFT {m}",
        ),
        "IN": _t(
            "ACH D- {m}-{ref10}",
            "NACH/{m}/{ref10}",
            "BIL/ONL/{ref10}/{m}/{ref8}",
            "BIL/BPAY/{ref10}/{m}",
            "BBPS {m} {ref10}",
            "SI {m} {ref8}",
            "AUTOPAY {m}",
            "UPI/{ref12}/{m}/{vpa}/BillPay",
            "ECS {m} {ref8}",
        ),
    },
    "p2p_out": {
        "US": _t(
            "ZELLE PAYMENT TO {p} CONF# {aref}",
            "ZELLE TO {p} ON {mmdd} REF #{aref}",
            "VENMO PAYMENT {ref10} WEB ID: {ref10}",
            "VENMO *{p}",
            "CASH APP*{p}*{city}",
            "PAYPAL INST XFER {p}",
            "ONLINE TRANSFER TO {p} REF #{aref}",
            "APPLE CASH SENT MONEY {p}",
            "ZELLE SENT {p} {memo}",
        ),
        "UK": _t(
            "FASTER PAYMENT TO {p} REF {memo}",
            "FPO {p} {ref8}",
            "{p} FP {date}",
            "TFR TO {p}",
            "MOBILE PAYMENT TO {p}",
            "BANK TRANSFER TO {p} {memo}",
            "SO {p} {memo}",
            "TO {p} {memo}",
            "MONZO PAYMENT TO {p}",
        ),
        "NG": _t(
            "NIP TRF TO {p}/{bank}/{ref12}",
            "TRF/{memo}/FRM {me} TO {p}",
            "NIBSS INSTANT PAYMENT OUTWARD {p}",
            "TRANSFER TO {p} {bank}",
            "MOB TRF TO {p} {ref10}",
            "USSD TRF TO {p}",
            "OPAY TRANSFER TO {p}",
            "NIP/{bank}/{p}/{memo}",
        ),
        "EU": _t(
            "SEPA UEBERWEISUNG AN {p} {memo}",
            "VIR SEPA EMIS VERS {p} {memo}",
            "VIREMENT A {p}",
            "TRANSFERENCIA A {p}",
            "BIZUM ENVIADO {p}",
            "BONIFICO A {p}",
            "OVERBOEKING NAAR {p}",
            "TIKKIE {p}",
            "SEPA CT TO {p} IBAN {iban}",
        ),
        "IN": _t(
            "UPI/{ref12}/{p}/{pvpa}/Sent",
            "IMPS/P2A/{ref12}/{p}/{bank}",
            "NEFT DR-{ifsc}-{p}-{ref10}",
            "UPI-{p}-{pvpa}-{ifsc}-{ref12}-SENT",
            "TO TRANSFER-{p}-{ref10}",
            "MMT/IMPS/{ref12}/{p}",
        ),
    },
    "p2p_in": {
        "US": _t(
            "ZELLE FROM {p} ON {mmdd} REF # {aref}",
            "ZELLE PAYMENT FROM {p} CONF# {aref}",
            "VENMO CASHOUT {ref10}",
            "CASH APP*CASH OUT*{p}",
            "ONLINE TRANSFER FROM {p} REF #{aref}",
            "PAYPAL TRANSFER FROM {p}",
            "DEPOSIT FROM {p}",
        ),
        "UK": _t(
            "FASTER PAYMENTS RECEIPT REF {memo} FROM {p}",
            "FPI {p} {ref8}",
            "CREDIT FROM {p}",
            "{p} {memo} FPI",
            "TRANSFER FROM {p}",
            "BANK CREDIT {p}",
            "RECEIVED FROM {p}",
        ),
        "NG": _t(
            "NIP TRF FROM {p}/{bank}/{ref12}",
            "TRF FRM {p} TO {me}",
            "NIBSS INSTANT PAYMENT INWARD {p}",
            "TRANSFER FROM {p} {bank}",
            "INWARD TRF {p} {memo}",
            "NIP/{bank}/{p}/TRF TO {me}",
            "CREDIT FROM {p}",
        ),
        "EU": _t(
            "SEPA GUTSCHRIFT {p} {memo}",
            "VIR SEPA RECU DE {p}",
            "VIR INST RECU {p} {memo}",
            "BIZUM RECIBIDO {p}",
            "BONIFICO DA {p}",
            "TRANSFERENCIA DE {p}",
            "GUTSCHRIFT UEBERWEISUNG {p}",
            "OVERBOEKING VAN {p}",
        ),
        "IN": _t(
            "UPI/{ref12}/{p}/{pvpa}/Received",
            "IMPS/P2A/{ref12}/{p}/CR",
            "NEFT CR-{ifsc}-{p}-{ref10}",
            "BY TRANSFER-{p}-{ref8}",
            "UPI/CR/{ref12}/{p}/{pvpa}",
            "MMT/IMPS/{ref12}/FROM {p}",
        ),
    },
    "own_out": {
        c: _t(
            "TRANSFER TO SAVINGS XXXXXX{card4}",
            "ONLINE TRANSFER TO SAV ...{card4}",
            "TFR TO SAVINGS",
            "TO SAVINGS POT",
            "SWEEP TO FD {ref8}",
            "INTERNAL TRANSFER TO {card4}",
            "TRANSFER TO OWN ACCOUNT",
        )
        for c in v.CITIES
    },
    "own_in": {
        c: _t(
            "TRANSFER FROM SAVINGS XXXXXX{card4}",
            "ONLINE TRANSFER FROM SAV ...{card4}",
            "MOBILE DEPOSIT REF {ref10}",
            "ATM CASH DEPOSIT {city}",
            "CASH DEPOSIT {bank} {city}",
            "BRANCH DEPOSIT",
            "REMOTE ONLINE DEPOSIT {ref6}",
            "FROM SAVINGS POT",
            "CASH DEP {city}",
            "TRANSFER FROM OWN ACCOUNT",
        )
        for c in v.CITIES
    },
    "atm": {
        "US": _t(
            "ATM WITHDRAWAL {ref6} {city}",
            "ATM CASH WITHDRAWAL {bank} {city}",
            "NON-{bank} ATM WITHDRAW {mmdd}",
            "WITHDRAWAL ATM {card4} {city}",
        ),
        "UK": _t(
            "LNK {city} CD {card4}",
            "CASH {bank} {date}",
            "ATM {bank} {city}",
            "CASH WITHDRAWAL AT {bank} {city}",
        ),
        "NG": _t(
            "ATM WDL {bank} {city}",
            "ATM WITHDRAWAL-{bank}-{city}",
            "CASH WITHDRAWAL FROM ATM {ref8}",
            "ATM WD {city} NG",
        ),
        "EU": _t(
            "GELDAUTOMAT {bank} {city}",
            "RETRAIT DAB {ddmm} {city}",
            "REINTEGRO CAJERO {bank}",
            "PRELIEVO BANCOMAT {city}",
            "GELDOPNAME {city}",
        ),
        "IN": _t(
            "ATW-{card4}XXXXXX{card4}-{bank} {city}",
            "NWD-{card4}-{city}",
            "ATM WDL {bank} {city}",
            "CASH WDL ATM {city}",
        ),
    },
    "broker": {
        c: _t(
            "{m} TRANSFER",
            "ACH DEBIT {m} TRANSFER",
            "{m} DES:FUNDING ID:{ref10}",
            "TRF TO {m}",
            "DEPOSIT TO {m} {ref8}",
            "{m} BUY",
            "{m} ADD FUNDS",
            "UPI/{ref12}/{m}/{vpa}/Invest",
            "SEPA UEBERWEISUNG {m}",
            "{proc}{m}",
        )
        for c in v.CITIES
    },
    "payroll": {
        "US": _t(
            "{m} DES:PAYROLL ID:{ref10} INDN:{me} CO ID:{ref10} PPD",
            "{m} PAYROLL PPD ID: {ref10}",
            "DIRECT DEP {m}",
            "ACH CREDIT {m} PAYROLL",
            "{m} DIR DEP",
            "{m} SALARY",
            "{m} DIRECT DEPOSIT {ref6}",
        ),
        "UK": _t(
            "BGC {m} SALARY",
            "{m} WAGES BGC",
            "BANK GIRO CREDIT REF {m} PAY",
            "FASTER PAYMENTS RECEIPT {m} SALARY",
            "{m} BACS",
            "{m} {mon} PAY",
        ),
        "NG": _t(
            "NIP TRF FROM {m}/SALARY {mon} {yyyy}",
            "{m} SALARY {mon} {yyyy}",
            "SAL/{mon}/{yyyy}/{m}",
            "REMITA PAYMENT {m} SAL",
            "{m} STAFF SALARY",
        ),
        "EU": _t(
            "LOHN/GEHALT {m} {mon}",
            "GEHALT {mon} {yyyy} {m}",
            "VIR SEPA RECU SALAIRE {m}",
            "NOMINA {m}",
            "STIPENDIO {m}",
            "SALARIS {m}",
            "SEPA CREDIT {m} SALARY",
        ),
        "IN": _t(
            "NEFT CR-{ifsc}-{m}-SALARY {mon} {yyyy}",
            "SALARY CREDIT {m}",
            "SAL {mon}{yyyy} {m}",
            "IMPS CR {m} SALARY",
            "ACH C- {m} SALARY",
        ),
    },
    "other_income": {
        c: _t(
            "INTEREST PAYMENT",
            "INTEREST EARNED",
            "INT.PD:{date}",
            "CREDIT INTEREST",
            "DIVIDEND {stock}",
            "DIV {stock}",
            "IRS TREAS 310 TAX REF",
            "HMRC TAX REFUND",
            "SSA TREAS 310 XXSOC SEC",
            "DWP UC",
            "CHILD BENEFIT",
            "UNEMPLOYMENT BENEFIT",
            "PENSION {m}",
            "CASHBACK REWARD",
            "ZINSEN",
            "INTERETS CREDITEURS",
            "FIRS TAX REFUND",
            "INCOME TAX REFUND {ref8}",
            "SB INT {date}",
        )
        for c in v.CITIES
    },
    "fee": {
        c: _t(
            "{m}",
            "{m} {mmdd}",
            "{bank} {m}",
            "{m} - {card4}",
            "CHG: {m}",
            "{m} {mon} {yyyy}",
            "{m} FOR {date}",
            "{m} {ref8}",
            "{m} ON TRANSFER",
        )
        for c in v.CITIES
    },
    "loan": {
        c: _t(
            "{m} PAYMENT",
            "{m} EPAY {ref8}",
            "{m} AUTOPAY",
            "{m} EMI {ref8}",
            "LOAN REPAYMENT {m}",
            "{m} INSTALMENT",
            "CREDIT CARD PAYMENT {m}",
            "{m} ONLINE PMT",
            "PAYMENT TO {m} {ref10}",
            "{m} MTG PYMT",
            "{m} LOAN {ref6}",
        )
        for c in v.CITIES
    },
    "donation": {
        c: _t("DONATION {m}", "{m} DONATION", "GIFT AID {m}", "{m} TITHE", "{proc}{m}", "{m} MONTHLY GIFT")
        for c in v.CITIES
    },
    "topup": {
        "NG": _t(
            "AIRTIME PURCHASE {m} {phone}",
            "USSD AIRTIME {m} {phone}",
            "{m} AIRTIME RECHARGE",
            "DATA BUNDLE {m} {phone}",
            "VTU {m} {phone}",
            "{m} PREPAID TOKEN {ref12}",
        ),
        "IN": _t(
            "RECHARGE {m} {phone}",
            "UPI/{ref12}/{m}/{vpa}/Recharge",
            "{m} PREPAID {phone}",
            "MOBILE RECHARGE {m}",
        ),
        "US": _t("{m} PREPAID REFILL", "{m} TOP UP {phone}"),
        "UK": _t("{m} TOP UP", "{m} PAYG TOPUP {phone}"),
        "EU": _t("{m} AUFLADUNG", "RECARGA {m} {phone}", "RICARICA {m}"),
    },
}
