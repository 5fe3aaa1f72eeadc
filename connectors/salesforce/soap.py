"""The one SOAP API call the connector makes: ``getUserInfo``.

A single-currency org has no ``CurrencyIsoCode`` and no
``Organization.DefaultCurrencyIsoCode``; the only API answer naming its
currency is SOAP ``getUserInfo``'s ``orgDefaultCurrencyIsoCode`` (SOAP API
Developer Guide, GetUserInfoResult). The answer is read with a pattern over
the flat ``<result>`` element, not an XML parser: only short text values of
known names are taken, so no document structure or entity is ever expanded.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

__all__ = ["CONTENT_TYPE", "fault_text", "result_values", "user_info_request"]

CONTENT_TYPE = "text/xml; charset=UTF-8"
_REQUEST = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"'
    ' xmlns:urn="urn:partner.soap.sforce.com">'
    "<soapenv:Header><urn:SessionHeader><urn:sessionId>{session}</urn:sessionId>"
    "</urn:SessionHeader></soapenv:Header>"
    "<soapenv:Body><urn:getUserInfo/></soapenv:Body></soapenv:Envelope>"
)
_RESULT = re.compile(r"<(?:[\w.-]+:)?result>(.*?)</(?:[\w.-]+:)?result>", re.DOTALL)
_VALUE = re.compile(r"<(?:[\w.-]+:)?([A-Za-z]+)>([^<]{0,255})</(?:[\w.-]+:)?\1>")
_FAULT = re.compile(r"<faultstring>([^<]{0,500})</faultstring>")


def user_info_request(session_id: str) -> bytes:
    """The ``getUserInfo`` envelope, carrying the OAuth access token as session id."""
    return _REQUEST.format(session=escape(session_id)).encode("utf-8")


def result_values(text: str) -> dict[str, str] | None:
    """The simple values of the answer's ``<result>``; None when it has none."""
    match = _RESULT.search(text)
    if match is None:
        return None
    return {name: value for name, value in _VALUE.findall(match.group(1))}


def fault_text(text: str) -> str:
    """A SOAP fault's ``faultstring``, else the start of the body."""
    match = _FAULT.search(text)
    return match.group(1) if match else text[:200]
