"""Third-party content: which failing elements are inside a frame served from another origin than
the page (a web chat, a payment form, a map, a video player), and whose it is.

axe gives an element inside a frame a target with one selector per frame level, outermost first
(``["#chat", "img.agent"]``); the browser records, per audited frame, that selector path and the
address its document came from (``facts["frame_urls"]``, :mod:`audits.engine.axe`). An element's
origin is that of the innermost frame around it with an http(s) address (a ``srcdoc`` or
``about:blank`` frame is its parent's). Pure functions; nothing from the page is trusted.

>>> frames = [{"target": ["#chat"], "url": "https://chat.livechatinc.com/w?x=1"}]
>>> third_party_origin(["#chat", "img"], frames, "https://www.example.gov.uk/bins")
'https://chat.livechatinc.com'
>>> vendor_name("https://chat.livechatinc.com")
'LiveChat'
>>> third_party_origin(["img"], frames, "https://www.example.gov.uk/bins") is None
True
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable, Mapping
from urllib.parse import urlsplit

__all__ = ["ThirdPartyGroup", "VENDORS", "group_by_vendor", "origin_of", "page_origin", "third_party_origin",
           "vendor_name"]

# Well-known hosts of embedded services (a registered domain and its subdomains) -> the supplier.
# A host not listed is shown as itself.
VENDORS: dict[str, str] = {
    "youtube.com": "YouTube", "youtube-nocookie.com": "YouTube", "vimeo.com": "Vimeo",
    "google.com": "Google", "googleapis.com": "Google", "gstatic.com": "Google", "recaptcha.net": "Google reCAPTCHA",
    "doubleclick.net": "Google", "googletagmanager.com": "Google Tag Manager",
    "facebook.com": "Meta (Facebook)", "instagram.com": "Meta (Instagram)", "twitter.com": "X (Twitter)",
    "x.com": "X (Twitter)", "linkedin.com": "LinkedIn", "tiktok.com": "TikTok",
    "livechatinc.com": "LiveChat", "zendesk.com": "Zendesk", "zdassets.com": "Zendesk", "intercom.io": "Intercom",
    "tawk.to": "tawk.to", "drift.com": "Drift", "hubspot.com": "HubSpot", "freshchat.com": "Freshworks",
    "stripe.com": "Stripe", "stripe.network": "Stripe", "paypal.com": "PayPal", "worldpay.com": "Worldpay",
    "payments.service.gov.uk": "GOV.UK Pay", "civicaepay.co.uk": "Civica Pay", "capita-software.co.uk": "Capita",
    "arcgis.com": "Esri ArcGIS", "openstreetmap.org": "OpenStreetMap", "bing.com": "Microsoft Bing",
    "microsoft.com": "Microsoft", "office.com": "Microsoft", "sharepoint.com": "Microsoft SharePoint",
    "jotform.com": "Jotform", "typeform.com": "Typeform", "surveymonkey.com": "SurveyMonkey",
    "smartsurvey.co.uk": "SmartSurvey", "govdelivery.com": "Granicus GovDelivery", "granicus.com": "Granicus",
    "issuu.com": "Issuu", "flickr.com": "Flickr", "soundcloud.com": "SoundCloud", "spotify.com": "Spotify",
    "cookiebot.com": "Cookiebot", "onetrust.com": "OneTrust", "cookielaw.org": "OneTrust",
    "reciteme.com": "Recite Me", "browsealoud.com": "Texthelp BrowseAloud", "eventbrite.com": "Eventbrite",
}


def origin_of(url: Any) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, in lower case; None for anything else.

    >>> origin_of("HTTPS://Maps.Example.com:8443/x"), origin_of("about:srcdoc")
    ('https://maps.example.com:8443', None)
    """
    if not isinstance(url, str):
        return None
    try:
        p = urlsplit(url.strip()[:2000])
        host, port = (p.hostname or "").lower(), p.port
    except ValueError:
        return None
    if p.scheme.lower() not in ("http", "https") or not host:
        return None
    default = {"http": 80, "https": 443}[p.scheme.lower()]
    if ":" in host:
        host = f"[{host}]"
    return f"{p.scheme.lower()}://{host}" + (f":{port}" if port and port != default else "")


def _key(target: Any) -> tuple:
    if isinstance(target, (list, tuple)):
        return tuple(_key(t) for t in target)
    return target if isinstance(target, str) else repr(target)


def third_party_origin(target: Any, frame_urls: Any, page_url: str | None) -> str | None:
    """The origin of the frame an element (axe ``target``) is in, when it is not the page's own;
    None for an element of the page itself, a frame of the page's origin, or an unknown frame."""
    if not isinstance(target, (list, tuple)) or len(target) < 2 or not isinstance(frame_urls, list):
        return None
    urls: dict[tuple, str] = {}
    for f in frame_urls[:200]:
        if isinstance(f, Mapping) and isinstance(f.get("target"), list) and isinstance(f.get("url"), str):
            urls.setdefault(_key(f["target"]), f["url"])
    path = _key(target)[:-1]
    for n in range(len(path), 0, -1):
        origin = origin_of(urls.get(path[:n]))
        if origin is not None:
            return origin if origin != origin_of(page_url) else None
    return None


def vendor_name(origin: str | None) -> str:
    """The supplier behind an origin, by the well-known hosts in :data:`VENDORS` (a subdomain is
    its domain's), else the origin's host.

    >>> vendor_name("https://www.youtube-nocookie.com"), vendor_name("https://chat.example.net:8443")
    ('YouTube', 'chat.example.net:8443')
    """
    host = (origin or "").split("://", 1)[-1]
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    labels = name.split(".")
    for i in range(len(labels) - 1):
        found = VENDORS.get(".".join(labels[i:]))
        if found:
            return found
    return host


@dataclass(frozen=True)
class ThirdPartyGroup:
    """The failing elements of one supplier's content across a run's pages."""

    vendor: str
    origins: tuple[str, ...]
    pages: tuple[str, ...]
    elements: int
    rules: tuple[tuple[str, int], ...]  # (rule, elements), most first

    def as_dict(self) -> dict:
        return {"vendor": self.vendor, "origins": list(self.origins), "pages": list(self.pages),
                "elements": self.elements, "rules": [{"rule": r, "elements": n} for r, n in self.rules]}


def group_by_vendor(findings: Iterable[Mapping]) -> list[ThirdPartyGroup]:
    """Group findings carrying an ``origin`` (with ``url`` of their page and ``rule``) by supplier,
    most elements first; findings without one are left out.

    >>> g, = group_by_vendor([{"origin": "https://www.youtube.com", "url": "https://a/", "rule": "frame-title"},
    ...                       {"origin": "https://youtube-nocookie.com", "url": "https://a/b", "rule": "image-alt"},
    ...                       {"origin": None, "url": "https://a/", "rule": "image-alt"}])
    >>> g.vendor, g.elements, g.pages, g.origins
    ('YouTube', 2, ('https://a/', 'https://a/b'), ('https://www.youtube.com', 'https://youtube-nocookie.com'))
    """
    by: dict[str, list[Mapping]] = defaultdict(list)
    for f in findings:
        if f.get("origin"):
            by[vendor_name(f["origin"])].append(f)
    out = []
    for vendor, items in by.items():
        rules: dict[str, int] = defaultdict(int)
        for f in items:
            rules[str(f.get("rule"))] += 1
        out.append(ThirdPartyGroup(
            vendor=vendor, origins=tuple(sorted({f["origin"] for f in items})),
            pages=tuple(sorted({str(f.get("url")) for f in items})), elements=len(items),
            rules=tuple(sorted(rules.items(), key=lambda kv: (-kv[1], kv[0])))))
    out.sort(key=lambda g: (-g.elements, g.vendor))
    return out


def page_origin(page: Mapping) -> str | None:
    """The origin of a page's document (its final URL after redirects, else its URL)."""
    return origin_of(page.get("final_url")) or origin_of(page.get("url"))

