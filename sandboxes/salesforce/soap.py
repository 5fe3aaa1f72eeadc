"""The sandbox's SOAP API: ``getUserInfo`` only, on ``POST /services/Soap/u/{version}``.

REST has no call that names a single-currency org's currency; SOAP
``getUserInfo`` does (``orgDefaultCurrencyIsoCode``, set only when
``organizationMultiCurrency`` is false; ``userDefaultCurrencyIsoCode`` only
when it is true). Answers are the partner WSDL's; errors are SOAP faults with
HTTP 500, as Salesforce sends them. The request is read with two patterns,
not an XML parser: the sandbox only needs the session id and the operation.
"""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import escape

from handoff_hub.sandboxes.salesforce.org import CURRENCY_LOCALES, CURRENCY_SYMBOLS
from handoff_hub.sandboxes.salesforce.store import RecordStore

__all__ = ["SOAP_CONTENT_TYPE", "fault", "operation", "session_id", "user_info"]

SOAP_CONTENT_TYPE = "text/xml; charset=utf-8"
_ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"'
    ' xmlns="urn:partner.soap.sforce.com"'
    ' xmlns:sf="urn:fault.partner.soap.sforce.com"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
)
_SESSION = re.compile(r"<(?:[\w.-]+:)?sessionId>\s*([^<\s]+)\s*</(?:[\w.-]+:)?sessionId>")
_OPERATION = re.compile(r"<(?:[\w.-]+:)?Body[^>]*>\s*<(?:[\w.-]+:)?([A-Za-z]+)")


def session_id(body: str) -> str | None:
    """The ``SessionHeader/sessionId`` of a request envelope."""
    match = _SESSION.search(body)
    return match.group(1) if match else None


def operation(body: str) -> str | None:
    """The name of the operation in the request's ``Body``."""
    match = _OPERATION.search(body)
    return match.group(1) if match else None


def user_info(store: RecordStore, username: str) -> str:
    """The ``getUserInfoResponse`` envelope for the user called ``username``."""
    user = next(u for u in store.records("User") if u["Username"] == username)
    org = store.records("Organization")[0]
    multi = not store.schema.single_currency
    currency = store.schema.corporate_currency
    values: dict[str, Any] = {
        "accessibilityMode": False,
        "chatterExternal": False,
        "currencySymbol": None if multi else CURRENCY_SYMBOLS.get(currency, currency),
        "orgAttachmentFileSizeLimit": 5242880,
        "orgDefaultCurrencyIsoCode": None if multi else currency,
        "orgDefaultCurrencyLocale": None if multi else CURRENCY_LOCALES.get(currency),
        "orgDisallowHtmlAttachments": False,
        "orgHasPersonAccounts": False,
        "organizationId": org["Id"],
        "organizationMultiCurrency": multi,
        "organizationName": org["Name"],
        "profileId": "00eHb000000IntgIAA",
        "roleId": None,
        "sessionSecondsValid": 7200,
        "userDefaultCurrencyIsoCode": user.get("DefaultCurrencyIsoCode") if multi else None,
        "userEmail": user["Email"],
        "userFullName": user["Name"],
        "userId": user["Id"],
        "userLanguage": org["LanguageLocaleKey"],
        "userLocale": org["DefaultLocaleSidKey"],
        "userName": user["Username"],
        "userTimeZone": org["TimeZoneSidKey"],
        "userType": "Standard",
        "userUiSkin": "Theme3",
    }
    return _response("getUserInfoResponse", values)


def _response(name: str, values: dict[str, Any]) -> str:
    """A ``<name><result>...`` envelope; None values are sent as ``xsi:nil``."""
    parts = []
    for name, value in values.items():
        if value is None:
            parts.append(f'<{name} xsi:nil="true"/>')
        else:
            text = str(value).lower() if isinstance(value, bool) else str(value)
            parts.append(f"<{name}>{escape(text)}</{name}>")
    result = "".join(parts)
    return _ENVELOPE.format(body=f"<{name}><result>{result}</result></{name}>")


def fault(code: str, message: str) -> str:
    """A SOAP fault, e.g. ``sf:INVALID_SESSION_ID``."""
    detail = (
        f'<sf:UnexpectedErrorFault xsi:type="sf:UnexpectedErrorFault">'
        f"<sf:exceptionCode>{code}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage>"
        f"</sf:UnexpectedErrorFault>"
    )
    body = (
        f"<soapenv:Fault><faultcode>sf:{code}</faultcode>"
        f"<faultstring>{code}: {escape(message)}</faultstring>"
        f"<detail>{detail}</detail></soapenv:Fault>"
    )
    return _ENVELOPE.format(body=body)
