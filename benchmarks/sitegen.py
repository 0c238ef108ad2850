"""A deterministic synthetic UK council website, served on 127.0.0.1, for benchmarks.

The same ``(pages, seed)`` always gives byte-identical pages. A site of ``pages`` HTML pages has:

- a home page, an A-Z of services (``/a-z`` and one page per letter), service categories
  (``/bins-and-recycling`` ...), service pages (``/<category>/<service>``), a news archive
  (``/news``, ``/news/page/2`` ...) with its articles (``/news/<slug>``) and a few static
  pages (contact, accessibility statement, privacy, cookies);
- on every page a shared header with a mega-menu (about 40 links), breadcrumbs, a footer,
  shared CSS and JS (``/assets/...``, served with ``Cache-Control`` and ``ETag``), small
  generated PNG images; some pages have forms and tables; every page weighs 20-60 KB;
- known accessibility faults, recorded in ``Site.expected`` (path -> axe rule ids):
  ``image-alt`` (images without alt), ``label`` (unlabelled fields), ``color-contrast``
  (grey "last updated" notes), ``link-name`` (icon links without a name), ``button-name``;
- ``/sitemap.xml`` listing every page and ``/robots.txt`` pointing to it.

Every page is reachable by links from the home page within a few clicks (categories, the A-Z and
the news archive, whose pager links every archive page), so discovery from ``/`` finds all of
them. URL paths carry no digits except the news pager, so crawler-trap templates do not fold them.

Use from Python::

    site = build_site(300, seed=1)
    with SiteServer(site) as srv:          # a LoopbackServer on 127.0.0.1:<free port>
        srv.url                            # http://127.0.0.1:PORT/ (srv.origin: without the slash)
        srv.page_urls()                    # every page, sitemap order
        site.mutate("script")              # change a shared script (re-audit tests)

From the shell::

    python benchmarks/sitegen.py --pages 300 --serve            # serve until Ctrl-C
    python benchmarks/sitegen.py --pages 300 --out /tmp/site    # write the files to disk
    python benchmarks/sitegen.py --serve --control              # + GET /__bench/mutate?kind=page&path=/x
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import random
import re
import struct
import sys
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from audits.engine.static_server import LoopbackServer, Reply, RequestRecord

COUNCIL = "Ashvale District Council"
MIN_PAGE_BYTES = 20 * 1024
MAX_PAGE_BYTES = 60 * 1024
NEWS_PER_ARCHIVE_PAGE = 20
LAST_MODIFIED = formatdate(1735689600, usegmt=True)  # 2025-01-01, fixed for determinism

# --------------------------------------------------------------------------------------------
# Vocabulary (no digits anywhere: URL slugs are made from these words)
# --------------------------------------------------------------------------------------------

CATEGORIES: list[tuple[str, str, list[str]]] = [
    ("Bins and recycling", "Collection days, missed bins, garden waste and the tip.",
     ["Bin collections", "Garden waste", "Recycling centres", "Bulky waste", "Food waste", "Clinical waste",
      "Commercial waste", "Fly-tipping", "Litter bins", "Glass recycling", "Textile banks", "Waste carriers"]),
    ("Council tax", "Bands, bills, discounts and paying online.",
     ["Council tax bands", "Council tax bills", "Single person discount", "Council tax reduction",
      "Empty property charges", "Direct debit", "Moving home", "Student exemptions", "Appeals against bands",
      "Second homes", "Annexes", "Severe mental impairment"]),
    ("Housing", "Council homes, homelessness, repairs and grants.",
     ["Housing register", "Homelessness advice", "Private renting", "Disabled facilities grants",
      "Houses in multiple occupation", "Empty homes", "Affordable housing", "Tenancy relations",
      "Home energy grants", "Gypsy and traveller sites", "Right to buy", "Housing repairs"]),
    ("Planning and building control", "Applications, appeals, local plan and building regulations.",
     ["Planning applications", "Building regulations", "Local plan", "Tree preservation orders",
      "Conservation areas", "Listed buildings", "Planning enforcement", "Neighbourhood planning",
      "Dropped kerbs", "Street naming", "Land charges", "Pre-application advice"]),
    ("Parking and roads", "Permits, penalty charges, potholes and street lighting.",
     ["Parking permits", "Penalty charge notices", "Car parks", "Potholes", "Street lighting",
      "Road closures", "Gritting", "Blue badges", "Electric vehicle charging", "Abandoned vehicles",
      "Highway licences", "Residents parking zones"]),
    ("Schools and education", "Admissions, transport, term dates and free meals.",
     ["School admissions", "School transport", "Term dates", "Free school meals", "Special educational needs",
      "Home education", "Adult learning", "School attendance", "Childcare funding", "Youth services",
      "Student finance", "Apprenticeships"]),
    ("Adult social care", "Care at home, care homes, carers and paying for care.",
     ["Care needs assessment", "Care homes", "Home care", "Carers support", "Paying for care",
      "Safeguarding adults", "Equipment and adaptations", "Telecare", "Day services",
      "Direct payments", "Deprivation of liberty", "Dementia support"]),
    ("Children and families", "Family support, fostering, adoption and safeguarding.",
     ["Fostering", "Adoption", "Family hubs", "Safeguarding children", "Early help", "Children in care",
      "Short breaks", "Parenting courses", "Holiday activities", "Childminders", "Youth justice",
      "Care leavers"]),
    ("Leisure and culture", "Parks, leisure centres, museums and events.",
     ["Parks and open spaces", "Leisure centres", "Museums", "Allotments", "Sports pitches",
      "Playgrounds", "Public rights of way", "Arts grants", "Theatre", "Cemeteries", "Events in parks",
      "Nature reserves"]),
    ("Business and licensing", "Licences, business rates, food safety and markets.",
     ["Business rates", "Premises licences", "Taxi licences", "Food safety", "Street trading", "Markets",
      "Scrap metal licences", "Animal licences", "Gambling licences", "Business grants",
      "Trading standards", "Commercial property"]),
    ("Libraries", "Joining, e-books, opening hours and local history.",
     ["Library membership", "E-books and audiobooks", "Library opening hours", "Local history",
      "Reading groups", "Library events", "Computers in libraries", "Home library service",
      "Family history", "Book renewals", "Study spaces", "Library fines"]),
    ("Council and democracy", "Councillors, meetings, elections and budgets.",
     ["Councillors", "Council meetings", "Elections", "Electoral register", "Council budget",
      "Freedom of information", "Complaints", "Petitions", "Consultations", "Mayor", "Corporate strategy",
      "Transparency data"]),
    ("Environment", "Pollution, pests, noise and climate action.",
     ["Noise complaints", "Pest control", "Air quality", "Climate action", "Contaminated land", "Dog fouling",
      "Graffiti removal", "Public toilets", "Flooding", "Bonfires", "Stray dogs", "Water quality"]),
    ("Jobs and careers", "Vacancies, apprenticeships and working for us.",
     ["Current vacancies", "Graduate scheme", "Work experience", "Pay and benefits", "Volunteering",
      "Staff wellbeing", "Recruitment process", "Agency workers", "Teaching jobs", "Social work careers",
      "Equality at work", "Pension scheme"]),
]

SERVICE_FORMS = [
    "{S}", "Apply for {s}", "Report a problem with {s}", "Pay for {s}", "{S}: fees and charges",
    "{S} in {A}", "Change your {s} details", "{S}: frequently asked questions", "Cancel {s}",
    "{S}: eligibility", "Book {s}", "{S}: our policy", "Contact the {s} team", "Renew {s}",
]
AREAS = [
    "Ashbury", "Brookfield", "Castleton", "Dunmere", "Eastwick", "Fairholme", "Greyford", "Hollins",
    "Ivybridge Lane", "Kingsmead", "Longmoor", "Millbrook", "Northgate", "Oakhurst", "Priory Vale",
    "Queensdown", "Redhill", "Southmead", "Thornbury", "Upton Green", "Westerleigh", "Yarrow End",
]
NEWS_SUBJECTS = [
    "new bin collection days", "the library refurbishment", "the leisure centre", "pothole repairs",
    "winter gritting", "the local plan consultation", "a new play area", "council tax support",
    "the summer reading challenge", "affordable homes", "the high street", "electric vehicle chargers",
    "the market hall", "free school meals", "tree planting", "the food waste trial", "town centre parking",
    "the carers fund", "flood defences", "the museum exhibition", "youth clubs", "cycle lanes",
    "the budget consultation", "a warm spaces scheme", "community grants", "the park run", "street lighting",
]
NEWS_FORMS = [
    "Council approves {n} in {A}", "Residents asked for views on {n}", "Work starts on {n} in {A}",
    "Update on {n}", "Funding secured for {n}", "{A} celebrates {n}", "Changes to {n} this winter",
    "Have your say on {n} in {A}", "Award for {n}", "Next steps for {n}", "Volunteers help with {n} in {A}",
    "Record response to {n}", "Reminder about {n}",
]
NEWS_TAGS = ["first look", "spring", "summer", "autumn", "winter", "latest", "followup", "community", "update"]

SENTENCES = [
    "Residents of {A} can {v} online at any time, and most requests are answered within ten working days.",
    "If you need help to {v}, our customer service team can talk you through each step by phone.",
    "You will need your council tax reference, your postcode and an email address before you start.",
    "We aim to make our services easy to use for everyone, including people who use assistive technology.",
    "The service is free for most households, but a charge may apply to businesses and larger requests.",
    "Please read the guidance below before you {v}, as some requests need supporting documents.",
    "Our officers check every report and will contact you if they need more information.",
    "Information on this page is reviewed regularly and was checked by the service manager.",
    "If your circumstances change, tell us as soon as possible so we can update your account.",
    "You can ask for this information in another format, such as large print, easy read or audio.",
    "Decisions are usually made within eight weeks, although complex cases can take longer.",
    "The council works with local partners in {A} to deliver this service across the district.",
    "We publish our service standards every year, together with how well we performed against them.",
    "You can appeal against a decision by writing to us within twenty-eight days of the date on the letter.",
    "Most people find it quicker to {v} online, but you can also visit a customer service centre.",
    "We may share your information with other council services where the law allows us to do so.",
    "Opening hours may change on bank holidays; check this page before you travel.",
    "There is step-free access at all of our customer service centres and hearing loops at reception.",
    "Where a fee applies, you can pay by debit card, credit card or direct debit.",
    "Our privacy notice explains how we use the personal information you give us.",
]
VERBS = ["apply", "report a problem", "make a payment", "book an appointment", "check your status",
         "update your details", "request a visit", "make a complaint", "register", "cancel a request"]
HEADINGS = ["What you need to know", "Who can apply", "How to apply", "What happens next", "Costs",
            "How long it takes", "Get help", "Your rights", "Related services", "Documents you need",
            "After you apply", "If things go wrong", "Eligibility", "Timescales", "Accessibility"]

# --------------------------------------------------------------------------------------------
# Shared assets
# --------------------------------------------------------------------------------------------

SITE_CSS = """/* Ashvale District Council - site styles (v1) */
*,*::before,*::after{box-sizing:border-box}
html{font-family:Arial,Helvetica,sans-serif;font-size:100%;line-height:1.5;color:#0b0c0c;background:#fff}
body{margin:0}
a{color:#1d4f91;text-decoration:underline;text-underline-offset:.15em}
a:hover{color:#003078}
a:focus{outline:3px solid #fd0;background:#fd0;color:#0b0c0c}
.skip-link{position:absolute;left:-9999px}
.visually-hidden{position:absolute!important;width:1px!important;height:1px!important;margin:0!important;overflow:hidden!important;clip:rect(0 0 0 0)!important;white-space:nowrap!important;border:0!important}
.skip-link:focus{left:1rem;top:1rem;z-index:10;padding:.5rem}
.site-header{background:#1d3a5f;color:#fff;padding:.75rem 1rem}
.site-header a{color:#fff}
.site-header .logo{display:inline-flex;align-items:center;gap:.5rem;font-weight:700;font-size:1.25rem;text-decoration:none}
.site-search{float:right}
.site-search input{padding:.4rem;border:2px solid #0b0c0c;min-width:16rem}
.site-search button{padding:.4rem .8rem;background:#00703c;color:#fff;border:0}
.mega-menu{background:#f3f2f1;border-bottom:1px solid #b1b4b6;padding:0 1rem}
.mega-menu>ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:0 1.5rem}
.mega-menu li{position:relative}
.mega-menu .menu-top{display:inline-block;padding:.6rem 0;font-weight:700;color:#0b0c0c}
.mega-menu .menu-panel{display:none;position:absolute;z-index:5;background:#fff;border:1px solid #b1b4b6;padding:.5rem 1rem;min-width:18rem;list-style:none}
.mega-menu li.open .menu-panel{display:block}
.breadcrumbs{padding:.5rem 1rem;font-size:.875rem}
.breadcrumbs ol{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem}
.breadcrumbs li+li::before{content:"\\203A";margin-right:.25rem}
main{max-width:60rem;margin:0 auto;padding:1rem}
h1{font-size:2rem;margin:.5rem 0 1rem}
h2{font-size:1.5rem;margin:1.5rem 0 .5rem}
h3{font-size:1.2rem}
.lead{font-size:1.2rem}
.card-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(16rem,1fr));gap:1rem;list-style:none;padding:0}
.card{border:1px solid #b1b4b6;padding:1rem;background:#fff}
figure{margin:1rem 0}
figure img{max-width:100%;height:auto;display:block}
figcaption{font-size:.875rem;color:#505a5f}
table{border-collapse:collapse;width:100%;margin:1rem 0}
th,td{border-bottom:1px solid #b1b4b6;padding:.5rem;text-align:left}
caption{font-weight:700;text-align:left;padding:.5rem 0}
form .field{margin-bottom:1rem}
form label{display:block;font-weight:700}
form input,form select,form textarea{padding:.4rem;border:2px solid #0b0c0c;font-size:1rem}
.button{display:inline-block;background:#00703c;color:#fff;border:0;padding:.6rem 1rem;font-size:1rem}
.pager ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.5rem}
.pager a,.pager span{display:inline-block;min-width:2rem;padding:.25rem .5rem;border:1px solid #b1b4b6}
.az-letters{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.5rem}
.az-letters a{display:inline-block;min-width:2.5rem;padding:.4rem;text-align:center;border:1px solid #1d4f91}
.related{border-top:4px solid #1d4f91;margin-top:2rem;padding-top:1rem}
.meta-updated{color:#a3a3a3;font-size:.8rem}
.icon-link img{width:24px;height:24px}
.icon-btn{width:32px;height:32px;background:#f3f2f1 url(/media/icon-share.png) center no-repeat;border:1px solid #b1b4b6}
.cookie-banner{position:fixed;bottom:0;left:0;right:0;background:#1d3a5f;color:#fff;padding:1rem}
.cookie-banner button{margin-right:1rem}
.cookie-banner a{color:#fff}
.menu-toggle{min-width:24px;min-height:24px;margin-left:.25rem;background:#fff;border:1px solid #0b0c0c;color:#0b0c0c}
.site-footer{background:#f3f2f1;border-top:4px solid #1d3a5f;padding:1.5rem 1rem;margin-top:2rem;font-size:.9rem}
.site-footer ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.5rem 1.5rem}
.site-footer .social a{display:inline-block;width:32px;height:32px}
@media (max-width:40rem){.site-search{float:none}.mega-menu>ul{display:block}}
@media print{.site-header,.mega-menu,.site-footer,.cookie-banner{display:none}}
"""

SITE_JS = """/* Ashvale District Council - site behaviour (v1) */
(function () {
  'use strict';
  document.documentElement.classList.add('js-enabled');
  function closeAll(except) {
    document.querySelectorAll('.mega-menu li.open').forEach(function (li) {
      if (li !== except) { li.classList.remove('open'); var b = li.querySelector('button'); if (b) b.setAttribute('aria-expanded', 'false'); }
    });
  }
  function initMenu() {
    document.querySelectorAll('.mega-menu li.has-panel').forEach(function (li) {
      var link = li.querySelector('.menu-top');
      var btn = document.createElement('button');
      btn.type = 'button';
      btn.className = 'menu-toggle';
      btn.setAttribute('aria-expanded', 'false');
      btn.setAttribute('aria-label', 'Show ' + link.textContent.trim() + ' links');
      btn.textContent = '+';
      btn.addEventListener('click', function () {
        var open = li.classList.toggle('open');
        btn.setAttribute('aria-expanded', open ? 'true' : 'false');
        closeAll(li);
      });
      link.insertAdjacentElement('afterend', btn);
    });
    document.addEventListener('keydown', function (e) { if (e.key === 'Escape') closeAll(null); });
  }
  function initExternalLinks() {
    document.querySelectorAll('a[href^="http"]').forEach(function (a) {
      if (a.host !== location.host) { a.setAttribute('rel', 'noopener'); }
    });
  }
  function initPrint() {
    document.querySelectorAll('[data-print]').forEach(function (el) {
      el.addEventListener('click', function (e) { e.preventDefault(); window.print(); });
    });
  }
  function ready(fn) { if (document.readyState !== 'loading') fn(); else document.addEventListener('DOMContentLoaded', fn); }
  ready(function () { initMenu(); initExternalLinks(); initPrint(); });
})();
"""

COOKIE_JS = """/* cookie consent banner (v1) */
(function () {
  'use strict';
  function banner() {
    if (document.cookie.indexOf('cookie_consent=') !== -1) return;
    var div = document.createElement('div');
    div.className = 'cookie-banner';
    div.setAttribute('role', 'region');
    div.setAttribute('aria-label', 'Cookie banner');
    div.innerHTML = '<p>We use some essential cookies to make this website work. We would also like to set ' +
      'analytics cookies to understand how you use the site.</p>' +
      '<button type="button" class="button" data-consent="yes">Accept analytics cookies</button>' +
      '<button type="button" class="button" data-consent="no">Reject analytics cookies</button>' +
      '<a href="/cookies">View cookies</a>';
    div.addEventListener('click', function (e) {
      var v = e.target.getAttribute && e.target.getAttribute('data-consent');
      if (v) { document.cookie = 'cookie_consent=' + v + '; path=/; max-age=31536000'; div.remove(); }
    });
    document.body.appendChild(div);
  }
  if (document.readyState !== 'loading') banner(); else document.addEventListener('DOMContentLoaded', banner);
})();
"""

FORMS_JS = """/* form helpers, loaded only by pages with forms (v1) */
(function () {
  'use strict';
  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('textarea[maxlength]').forEach(function (t) {
      var hint = document.createElement('p');
      hint.className = 'char-count';
      hint.setAttribute('aria-live', 'polite');
      hint.textContent = 'You can enter up to ' + t.getAttribute('maxlength') + ' characters';
      t.insertAdjacentElement('afterend', hint);
    });
    document.querySelectorAll('form[data-validate]').forEach(function (f) {
      f.setAttribute('novalidate', 'novalidate');
      f.addEventListener('submit', function (e) {
        var bad = Array.prototype.filter.call(f.querySelectorAll('[required]'), function (el) { return !el.value; });
        if (bad.length) { e.preventDefault(); bad[0].focus(); }
      });
    });
  });
})();
"""

# --------------------------------------------------------------------------------------------
# PNG images (generated, no dependencies)
# --------------------------------------------------------------------------------------------


def make_png(width: int, height: int, rng: random.Random, noise: int = 24) -> bytes:
    """An RGB PNG: a diagonal two-colour gradient whose low bits are noise (so it is not trivially small)."""
    c1 = [rng.randrange(40, 220) for _ in range(3)]
    c2 = [rng.randrange(40, 220) for _ in range(3)]
    span = width + height
    diag = bytes(int(c1[c] + (c2[c] - c1[c]) * i / span) for i in range(span) for c in range(3))
    bits = min(6, noise.bit_length())
    n = width * 3
    lo = int.from_bytes(bytes([(1 << bits) - 1]) * n, "big")
    hi = int.from_bytes(b"\xff" * n, "big") ^ lo
    rows = bytearray()
    for y in range(height):
        g = int.from_bytes(diag[y * 3:(y + width) * 3], "big")
        r = int.from_bytes(rng.randbytes(n), "big") if bits else 0
        rows.append(0)
        rows += ((g & hi) | (r & lo)).to_bytes(n, "big")

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b""))


PHOTO_NAMES = ["town-hall", "park", "library", "recycling", "high-street", "market", "river", "school",
               "leisure-centre", "housing", "bus-station", "museum", "allotments", "playground", "bridge",
               "community-hall", "street", "cycle-path", "woodland", "theatre"]
ICON_NAMES = ["print", "share", "email", "facebook", "x", "instagram", "youtube", "linkedin"]

# --------------------------------------------------------------------------------------------
# Site model
# --------------------------------------------------------------------------------------------


def slugify(text: str) -> str:
    return re.sub(r"[^a-z]+", "-", text.lower()).strip("-")


@dataclass
class Service:
    title: str
    slug: str
    category: int
    subject: str

    @property
    def path(self) -> str:
        return f"/{slugify(CATEGORIES[self.category][0])}/{self.slug}"


@dataclass
class Article:
    title: str
    slug: str
    date: str  # "12 March 2025" (display only; never in URLs)
    iso: str

    @property
    def path(self) -> str:
        return f"/news/{self.slug}"


@dataclass
class Asset:
    body: bytes
    ctype: str
    cache: str = "public, max-age=86400"


@dataclass
class Site:
    """All pages and assets of one synthetic site. ``pages`` keeps sitemap order."""

    seed: int
    pages: dict[str, bytes] = field(default_factory=dict)
    assets: dict[str, Asset] = field(default_factory=dict)
    expected: dict[str, set[str]] = field(default_factory=dict)  # path -> axe rule ids planted
    scripts_of: dict[str, list[str]] = field(default_factory=dict)  # path -> scripts it loads
    links_of: dict[str, list[str]] = field(default_factory=dict)  # path -> internal page links
    version: int = 0  # bumped by every mutate()
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def paths(self) -> list[str]:
        return list(self.pages)

    def sitemap(self, base: str) -> bytes:
        out = ['<?xml version="1.0" encoding="UTF-8"?>',
               '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
        for p in self.pages:
            out.append(f"<url><loc>{base}{p}</loc><lastmod>2025-01-01</lastmod></url>")
        out.append("</urlset>")
        return ("\n".join(out) + "\n").encode()

    def robots(self, base: str) -> bytes:
        return f"User-agent: *\nDisallow: /search\nDisallow: /__bench/\nSitemap: {base}/sitemap.xml\n".encode()

    def digest(self) -> str:
        """One hash of every page and asset: equal for equal (pages, seed)."""
        h = hashlib.sha256()
        for p, body in self.pages.items():
            h.update(p.encode() + b"\0" + body + b"\0")
        for p, a in sorted(self.assets.items()):
            h.update(p.encode() + b"\0" + a.body + b"\0")
        return h.hexdigest()

    # ---- mutations, for re-audit tests -------------------------------------------------------
    def mutate(self, kind: str, path: str | None = None) -> dict:
        """Change the site in place and say what changed and which pages are affected.

        ``kind``: ``page`` (one page's HTML gains an image without alt; default: the middle page),
        ``script`` (``/assets/site.js``, loaded by every page, inserts an image without alt),
        ``forms-script`` (``/assets/forms.js``, loaded only by pages with forms, inserts an
        unlabelled input), ``style`` (``/assets/site.css`` makes footer links low-contrast),
        ``image`` (one shared photo's bytes change; results should not).
        """
        with self.lock:
            self.version += 1
            v = self.version
            if kind == "page":
                path = path or self.paths[len(self.pages) // 2]
                if path not in self.pages:
                    raise KeyError(f"no page {path}")
                body = self.pages[path]
                extra = (f'<p class="mutation">Changed (v{v}).</p><img src="/media/park.png" width="120" '
                         f'height="80" data-mutation="{v}">').encode()
                self.pages[path] = body.replace(b"</main>", extra + b"</main>", 1)
                self.expected.setdefault(path, set()).add("image-alt")
                affected = [path]
                what = f"page {path}"
            elif kind in ("script", "forms-script"):
                name = "/assets/site.js" if kind == "script" else "/assets/forms.js"
                if kind == "script":
                    js = ("\n/* mutation v%d */\ndocument.addEventListener('DOMContentLoaded', function () {\n"
                          "  var img = document.createElement('img'); img.src = '/media/river.png';\n"
                          "  img.className = 'mutation'; var f = document.querySelector('footer');\n"
                          "  if (f) f.appendChild(img);\n});\n") % v
                    rule = "image-alt"
                else:
                    js = ("\n/* mutation v%d */\ndocument.addEventListener('DOMContentLoaded', function () {\n"
                          "  var f = document.querySelector('form'); if (!f) return;\n"
                          "  var i = document.createElement('input'); i.type = 'text'; i.name = 'extra%d';\n"
                          "  f.appendChild(i);\n});\n") % (v, v)
                    rule = "label"
                a = self.assets[name]
                self.assets[name] = Asset(a.body + js.encode(), a.ctype, a.cache)
                affected = [p for p, s in self.scripts_of.items() if name in s]
                for p in affected:
                    self.expected.setdefault(p, set()).add(rule)
                what = f"script {name}"
            elif kind == "style":
                a = self.assets["/assets/site.css"]
                css = f"\n/* mutation v{v} */\n.site-footer a{{color:#c8c8c8}}\n".encode()
                self.assets["/assets/site.css"] = Asset(a.body + css, a.ctype, a.cache)
                affected = list(self.pages)
                for p in affected:
                    self.expected.setdefault(p, set()).add("color-contrast")
                what = "stylesheet /assets/site.css"
            elif kind == "image":
                name = "/media/town-hall.png"
                self.assets[name] = Asset(make_png(120, 80, random.Random(f"{self.seed}/img/{v}")), "image/png")
                affected = []
                what = f"image {name} (no effect on results expected)"
            else:
                raise ValueError(f"unknown mutation {kind!r}: page, script, forms-script, style or image")
        return {"kind": kind, "what": what, "version": v, "affected": affected}


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------


def _service_pool(rng: random.Random) -> list[Service]:
    """Every possible service title, in a seeded order that keeps variety early on."""
    by_form: list[list[Service]] = [[] for _ in SERVICE_FORMS]
    for ci, (_, _, subjects) in enumerate(CATEGORIES):
        for subject in subjects:
            for fi, form in enumerate(SERVICE_FORMS):
                if "{A}" in form:
                    areas = rng.sample(AREAS, 3)
                else:
                    areas = [""]
                for area in areas:
                    title = form.format(S=subject, s=subject.lower(), A=area)
                    by_form[fi].append(Service(title, slugify(title), ci, subject))
    for lst in by_form:
        rng.shuffle(lst)
    # the plain subject pages first, then the rest interleaved round-robin by form
    pool = list(by_form[0])
    i = 0
    while any(by_form[1:]):
        lst = by_form[1 + i % (len(by_form) - 1)]
        if lst:
            pool.append(lst.pop())
        i += 1
    seen: set[str] = set()
    out = []
    for s in pool:
        if s.slug not in seen:
            seen.add(s.slug)
            out.append(s)
    return out


def _articles(rng: random.Random, n: int) -> list[Article]:
    months = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December"]
    out: list[Article] = []
    seen: set[str] = set()
    day_index = 0
    while len(out) < n:
        title = rng.choice(NEWS_FORMS).format(n=rng.choice(NEWS_SUBJECTS), A=rng.choice(AREAS))
        title = title[0].upper() + title[1:]
        slug = slugify(title)
        if slug in seen:
            slug = slugify(f"{title} {rng.choice(NEWS_TAGS)} {rng.choice(AREAS)}")
            if slug in seen:
                continue
        seen.add(slug)
        day_index += rng.randrange(1, 4)
        year = 2025 - day_index // 365
        doy = 364 - day_index % 365
        month = min(11, doy // 31)
        day = doy % 28 + 1
        out.append(Article(title, slug, f"{day} {months[month]} {year}", f"{year}-{month + 1:02d}-{day:02d}"))
    return out


STATIC_PAGES = [
    ("/contact-us", "Contact us"),
    ("/accessibility-statement", "Accessibility statement"),
    ("/privacy-notice", "Privacy notice"),
    ("/cookies", "Cookies"),
]


def _plan(pages: int, rng: random.Random) -> tuple[int, list[Service], list[Article]]:
    """Choose how many categories, services and articles make exactly ``pages`` pages."""
    if pages < 30:
        raise ValueError("a site needs at least 30 pages")
    ncat = max(4, min(len(CATEGORIES), pages // 20))
    pool = [s for s in _service_pool(rng) if s.category < ncat]
    fixed = 1 + 1 + len(STATIC_PAGES) + ncat  # home, /a-z, static pages, category pages
    n_articles = max(3, round(pages * 0.3))
    for _ in range(200):
        archive = max(1, -(-n_articles // NEWS_PER_ARCHIVE_PAGE))
        rest = pages - fixed - n_articles - archive
        # services + their A-Z letter pages = rest
        best = None
        for n_services in range(max(0, rest - 26), rest + 1):
            letters = len({s.subject[0].upper() for s in pool[:n_services]})
            if n_services + letters == rest:
                best = n_services
                break
        if best is not None and best <= len(pool) and best >= ncat:
            return ncat, pool[:best], _articles(rng, n_articles)
        n_articles += 1
    raise ValueError(f"cannot plan a site of {pages} pages")


class _Builder:
    def __init__(self, pages: int, seed: int):
        self.seed = seed
        rng = random.Random(seed)
        self.ncat, self.services, self.articles = _plan(pages, rng)
        self.site = Site(seed=seed)
        self.by_cat: dict[int, list[Service]] = {c: [] for c in range(self.ncat)}
        for s in self.services:
            self.by_cat[s.category].append(s)
        for c in self.by_cat:
            self.by_cat[c].sort(key=lambda s: s.title.lower())
        self.letters: dict[str, list[Service]] = {}
        for s in sorted(self.services, key=lambda s: (s.subject.lower(), s.title.lower())):
            self.letters.setdefault(s.subject[0].upper(), []).append(s)
        self.menu_html = self._menu()
        self.archive_pages = max(1, -(-len(self.articles) // NEWS_PER_ARCHIVE_PAGE))

    # ---- shared chrome ---------------------------------------------------------------------
    def _menu(self) -> str:
        items = []
        per_cat = max(2, 40 // self.ncat - 1)
        for c in range(self.ncat):
            name = CATEGORIES[c][0]
            top = self.by_cat[c][:per_cat]
            panel = "".join(f'<li><a href="{s.path}">{html.escape(s.title)}</a></li>' for s in top)
            items.append(f'<li class="has-panel"><a class="menu-top" href="/{slugify(name)}">{html.escape(name)}</a>'
                         f'<ul class="menu-panel">{panel}</ul></li>')
        items.append('<li><a class="menu-top" href="/news">News</a></li>')
        items.append('<li><a class="menu-top" href="/a-z">A to Z</a></li>')
        return f'<nav class="mega-menu" aria-label="Main menu"><ul>{"".join(items)}</ul></nav>'

    def _page(self, path: str, title: str, crumbs: list[tuple[str, str]], main: str, rng: random.Random,
              expected: set[str], target: int, forms: bool = False, extra_head: str = "") -> bytes:
        scripts = ["/assets/site.js", "/assets/cookie-banner.js"] + (["/assets/forms.js"] if forms else [])
        self.site.scripts_of[path] = scripts
        script_tags = "".join(f'<script src="{s}" defer></script>' for s in scripts)
        crumb_items = "".join(f'<li><a href="{h}">{html.escape(t)}</a></li>' for h, t in crumbs)
        crumb_html = (f'<nav class="breadcrumbs" aria-label="Breadcrumb"><ol>{crumb_items}'
                      f'<li aria-current="page">{html.escape(title)}</li></ol></nav>') if crumbs else ""
        footer_bad = ""
        if "link-name" in expected:
            footer_bad = '<a class="icon-link" href="/contact-us"><img src="/media/icon-email.png" alt=""></a>'
        head = (f'<!doctype html>\n<html lang="en-GB"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                f'<title>{html.escape(title)} - {COUNCIL}</title>'
                f'<meta name="description" content="{html.escape(title)}: information and online services from {COUNCIL}.">'
                f'<link rel="stylesheet" href="/assets/site.css">{script_tags}{extra_head}</head>\n<body>'
                f'<a class="skip-link" href="#main-content">Skip to main content</a>'
                f'<header class="site-header"><a class="logo" href="/"><img src="/media/logo.png" alt="" width="48" '
                f'height="48"><span>{COUNCIL}</span></a>'
                f'<form class="site-search" action="/search" method="get" role="search">'
                f'<label for="q" class="visually-hidden">Search this site</label><input type="search" id="q" name="q">'
                f'<button type="submit">Search</button></form></header>\n{self.menu_html}\n{crumb_html}\n'
                f'<main id="main-content">')
        footer = (f'</main>\n<footer class="site-footer"><h2 class="visually-hidden">Support links</h2><ul>'
                  f'<li><a href="/contact-us">Contact us</a></li><li><a href="/accessibility-statement">Accessibility statement</a></li>'
                  f'<li><a href="/privacy-notice">Privacy notice</a></li><li><a href="/cookies">Cookies</a></li>'
                  f'<li><a href="/a-z">A to Z of services</a></li><li><a href="/news">News</a></li></ul>'
                  f'<ul class="social">'
                  + "".join(f'<li><a href="/contact-us" aria-label="{n.title()}"><img src="/media/icon-{n}.png" alt="" '
                            f'width="24" height="24"></a></li>' for n in ICON_NAMES[3:])
                  + f'</ul>{footer_bad}<p>&copy; {COUNCIL}. All content is available under the Open Government Licence.</p>'
                  f'</footer>\n</body></html>\n')
        body = head + main
        # pad with more content (extra sections) until the page reaches its target size
        size = len(body.encode()) + len(footer.encode())
        while size < target:
            sec = self._section(rng)
            body += sec
            size += len(sec.encode())
        out = (body + footer).encode()
        if len(out) > MAX_PAGE_BYTES:
            raise AssertionError(f"{path}: {len(out)} bytes is over {MAX_PAGE_BYTES}")
        return out

    # ---- content blocks ----------------------------------------------------------------------
    def _para(self, rng: random.Random, n: int = 4) -> str:
        out = []
        for _ in range(n):
            s = rng.choice(SENTENCES).format(A=rng.choice(AREAS), v=rng.choice(VERBS))
            out.append(s)
        return "<p>" + " ".join(out) + "</p>\n"

    def _section(self, rng: random.Random) -> str:
        h = rng.choice(HEADINGS)
        parts = [f"<h2>{h}</h2>\n", self._para(rng, rng.randrange(3, 6))]
        r = rng.random()
        if r < 0.35:
            items = "".join(f"<li>{rng.choice(SENTENCES).format(A=rng.choice(AREAS), v=rng.choice(VERBS))}</li>"
                            for _ in range(rng.randrange(3, 6)))
            parts.append(f"<ul>{items}</ul>\n")
        elif r < 0.5:
            parts.append("<h3>More detail</h3>\n" + self._para(rng, 3))
        parts.append(self._para(rng, rng.randrange(2, 5)))
        return "<section>" + "".join(parts) + "</section>\n"

    def _figure(self, rng: random.Random, alt: bool) -> str:
        name = rng.choice(PHOTO_NAMES)
        alt_attr = f' alt="{name.replace("-", " ").capitalize()} in {rng.choice(AREAS)}"' if alt else ""
        return (f'<figure><img src="/media/{name}.png"{alt_attr} width="480" height="320" loading="lazy">'
                f'<figcaption>{rng.choice(AREAS)}, photographed by the council.</figcaption></figure>\n')

    def _table(self, rng: random.Random) -> str:
        kind = rng.randrange(3)
        if kind == 0:
            rows = "".join(f"<tr><th scope=\"row\">Band {b}</th><td>&pound;{1000 + i * 245 + rng.randrange(40)}.{rng.randrange(10, 99)}</td>"
                           f"<td>&pound;{80 + i * 20}.{rng.randrange(10, 99)}</td></tr>" for i, b in enumerate("ABCDEFGH"))
            return (f'<table><caption>Charges for this year</caption><thead><tr><th scope="col">Band</th>'
                    f'<th scope="col">Annual charge</th><th scope="col">Monthly instalment</th></tr></thead>'
                    f"<tbody>{rows}</tbody></table>\n")
        if kind == 1:
            days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
            rows = "".join(f'<tr><th scope="row">{a}</th><td>{rng.choice(days)}</td><td>{rng.choice(["Blue bin", "Green bin", "Black bin"])}</td></tr>'
                           for a in rng.sample(AREAS, 8))
            return (f'<table><caption>Collection days by area</caption><thead><tr><th scope="col">Area</th>'
                    f'<th scope="col">Day</th><th scope="col">Bin</th></tr></thead><tbody>{rows}</tbody></table>\n')
        rows = "".join(f'<tr><th scope="row">{h}</th><td>{rng.randrange(2, 40)} working days</td><td>{rng.randrange(60, 99)}%</td></tr>'
                       for h in rng.sample(HEADINGS, 6))
        return (f'<table><caption>Service standards</caption><thead><tr><th scope="col">Stage</th>'
                f'<th scope="col">Target</th><th scope="col">Met</th></tr></thead><tbody>{rows}</tbody></table>\n')

    def _form(self, rng: random.Random, unlabelled: bool, title: str) -> tuple[str, str | None]:
        """A service form; with ``unlabelled``, one field has no accessible name. Returns (html, axe rule)."""
        fields = [
            '<div class="field"><label for="f-name">Full name</label><input id="f-name" name="name" autocomplete="name" required></div>',
            '<div class="field"><label for="f-email">Email address</label><input id="f-email" name="email" type="email" autocomplete="email" required></div>',
            '<div class="field"><label for="f-postcode">Postcode</label><input id="f-postcode" name="postcode" autocomplete="postal-code"></div>',
            '<div class="field"><label for="f-area">Area</label><select id="f-area" name="area">'
            + "".join(f"<option>{a}</option>" for a in AREAS[:10]) + "</select></div>",
            '<div class="field"><label for="f-details">Details</label><textarea id="f-details" name="details" rows="5" maxlength="1200"></textarea></div>',
        ]
        rule = None
        if unlabelled:
            bad, rule = rng.choice([
                ('<div class="field"><p>Telephone number</p><input name="phone" type="tel"></div>', "label"),
                ('<div class="field"><input name="reference" placeholder=""></div>', "label"),
                ('<div class="field"><p>Preferred day</p><select name="day"><option>Monday</option>'
                 '<option>Tuesday</option></select></div>', "select-name"),
            ])
            fields.insert(rng.randrange(1, len(fields)), bad)
        return (f'<h2>{html.escape(title)} online</h2>\n<form action="/contact-us" method="post" data-validate>'
                + "".join(fields) + '<button type="submit" class="button">Send</button></form>\n'), rule

    def _violations(self, rng: random.Random, form_ok: bool) -> set[str]:
        v = set()
        if rng.random() < 0.15:
            v.add("image-alt")
        if form_ok and rng.random() < 0.4:
            v.add("label")
        if rng.random() < 0.3:
            v.add("color-contrast")
        if rng.random() < 0.1:
            v.add("link-name")
        if rng.random() < 0.05:
            v.add("button-name")
        return v

    def _content_page(self, path: str, title: str, crumbs, intro: str, rng: random.Random,
                      listing: str = "", allow_form: bool = True, allow_table: bool = True) -> None:
        has_form = allow_form and rng.random() < 0.25
        expected = self._violations(rng, has_form)
        main = [f"<h1>{html.escape(title)}</h1>\n", f'<p class="lead">{html.escape(intro)}</p>\n']
        if "color-contrast" in expected:
            main.append(f'<p class="meta-updated">Last updated {rng.randrange(1, 28)} {rng.choice(["March", "June", "October"])} 2025</p>\n')
        if "link-name" in expected or rng.random() < 0.3:
            main.append('<p class="tools"><a href="#" data-print>Print this page</a></p>\n')
        if "button-name" in expected:
            main.append('<p><button type="button" class="icon-btn"></button></p>\n')
        main.append(listing)
        main.append(self._para(rng, 4))
        if rng.random() < 0.7:
            main.append(self._figure(rng, alt=True))
        if "image-alt" in expected:
            main.append(self._figure(rng, alt=False))
        main.append(self._section(rng))
        if allow_table and rng.random() < 0.35:
            main.append(self._table(rng))
        if has_form:
            form_html, rule = self._form(rng, "label" in expected, title)
            main.append(form_html)
            if rule and rule != "label":
                expected.discard("label")
                expected.add(rule)
        related = rng.sample(self.services, min(6, len(self.services)))
        main.append('<aside class="related" aria-label="Related pages"><h2>Related pages</h2><ul>'
                    + "".join(f'<li><a href="{s.path}">{html.escape(s.title)}</a></li>' for s in related)
                    + "</ul></aside>\n")
        target = rng.randrange(22 * 1024, 50 * 1024)
        self._add(path, title, crumbs, "".join(main), rng, expected, target, forms=has_form)

    def _add(self, path, title, crumbs, main, rng, expected, target, forms=False) -> None:
        body = self._page(path, title, crumbs, main, rng, expected, target, forms=forms)
        self.site.pages[path] = body
        self.site.expected[path] = set(expected)
        self.site.links_of[path] = sorted(set(re.findall(r'href="(/[^"#?]*)"', body.decode())) - {path})

    # ---- the pages -----------------------------------------------------------------------------
    def build(self) -> Site:
        s = self.seed
        home_rng = random.Random(f"{s}/")
        cats = "".join(f'<li class="card"><h3><a href="/{slugify(CATEGORIES[c][0])}">{html.escape(CATEGORIES[c][0])}</a></h3>'
                       f"<p>{html.escape(CATEGORIES[c][1])}</p></li>" for c in range(self.ncat))
        popular = "".join(f'<li><a href="{x.path}">{html.escape(x.title)}</a></li>'
                          for x in home_rng.sample(self.services, min(12, len(self.services))))
        latest = "".join(f'<li><a href="{a.path}">{html.escape(a.title)}</a> <span>{a.date}</span></li>' for a in self.articles[:5])
        home_main = (f'<h1>Welcome to {COUNCIL}</h1>\n<p class="lead">Find information and use council services online.</p>\n'
                     f'<h2>Popular services</h2><ul>{popular}</ul>\n<h2>Services</h2><ul class="card-grid">{cats}</ul>\n'
                     f'<p><a href="/a-z">A to Z of all services</a></p>\n'
                     f'<h2>Latest news</h2><ul>{latest}</ul><p><a href="/news">All news</a></p>\n'
                     + self._figure(home_rng, alt=True) + self._para(home_rng, 4))
        self._add("/", "Home", [], home_main, home_rng, set(), home_rng.randrange(24 * 1024, 34 * 1024))

        # A-Z
        az_rng = random.Random(f"{s}/a-z")
        letters = "".join(f'<li><a href="/a-z/{l.lower()}">{l}</a></li>' for l in sorted(self.letters))
        self._add("/a-z", "A to Z of services", [("/", "Home")],
                  f'<h1>A to Z of services</h1>\n<p class="lead">Choose a letter to see every service that starts with it.</p>'
                  f'<ul class="az-letters">{letters}</ul>\n' + self._para(az_rng, 3),
                  az_rng, set(), az_rng.randrange(22 * 1024, 30 * 1024))
        for l, svcs in sorted(self.letters.items()):
            rng = random.Random(f"{s}/a-z/{l}")
            lst = "".join(f'<li><a href="{x.path}">{html.escape(x.title)}</a></li>' for x in svcs)
            self._add(f"/a-z/{l.lower()}", f"Services starting with {l}", [("/", "Home"), ("/a-z", "A to Z")],
                      f'<h1>Services starting with {l}</h1>\n<ul class="az-letters">{letters}</ul>\n<ul>{lst}</ul>\n',
                      rng, set(), rng.randrange(22 * 1024, 30 * 1024))

        # categories and services
        for c in range(self.ncat):
            name, desc, _ = CATEGORIES[c]
            cpath = f"/{slugify(name)}"
            rng = random.Random(f"{s}{cpath}")
            lst = "".join(f'<li><a href="{x.path}">{html.escape(x.title)}</a></li>' for x in self.by_cat[c])
            self._content_page(cpath, name, [("/", "Home")], desc, rng,
                               listing=f"<h2>Services</h2><ul>{lst}</ul>\n", allow_form=False)
        for x in self.services:
            rng = random.Random(f"{s}{x.path}")
            cname = CATEGORIES[x.category][0]
            self._content_page(x.path, x.title, [("/", "Home"), (f"/{slugify(cname)}", cname)],
                               f"{x.title}: what the council offers, who can use it and how to get started.", rng)

        # news archive and articles
        for k in range(1, self.archive_pages + 1):
            path = "/news" if k == 1 else f"/news/page/{k}"
            rng = random.Random(f"{s}{path}")
            chunk = self.articles[(k - 1) * NEWS_PER_ARCHIVE_PAGE: k * NEWS_PER_ARCHIVE_PAGE]
            items = "".join(f'<li><h2><a href="{a.path}">{html.escape(a.title)}</a></h2><p>{a.date}. '
                            f"{rng.choice(SENTENCES).format(A=rng.choice(AREAS), v=rng.choice(VERBS))}</p></li>"
                            for a in chunk)
            pager = "".join(f'<li><span aria-current="page">{i}</span></li>' if i == k else
                            f'<li><a href="{"/news" if i == 1 else f"/news/page/{i}"}">{i}</a></li>'
                            for i in range(1, self.archive_pages + 1))
            title = "News" if k == 1 else f"News: page {k} of {self.archive_pages}"
            self._add(path, title, [("/", "Home")] + ([("/news", "News")] if k > 1 else []),
                      f"<h1>{title}</h1>\n<ul class=\"news-list\">{items}</ul>\n"
                      f'<nav class="pager" aria-label="News pages"><ul>{pager}</ul></nav>\n',
                      rng, set(), rng.randrange(22 * 1024, 32 * 1024))
        for a in self.articles:
            rng = random.Random(f"{s}{a.path}")
            self._content_page(a.path, a.title, [("/", "Home"), ("/news", "News")],
                               f"Published {a.date}. {rng.choice(SENTENCES).format(A=rng.choice(AREAS), v=rng.choice(VERBS))}",
                               rng, allow_form=False)

        # static pages
        for path, title in STATIC_PAGES:
            rng = random.Random(f"{s}{path}")
            self._content_page(path, title, [("/", "Home")], f"{title} for {COUNCIL}.", rng,
                               allow_form=(path == "/contact-us"))

        # assets
        img_rng = random.Random(f"{s}/media")
        assets = self.site.assets
        assets["/assets/site.css"] = Asset(SITE_CSS.encode(), "text/css; charset=utf-8")
        assets["/assets/site.js"] = Asset(SITE_JS.encode(), "text/javascript; charset=utf-8")
        assets["/assets/cookie-banner.js"] = Asset(COOKIE_JS.encode(), "text/javascript; charset=utf-8")
        assets["/assets/forms.js"] = Asset(FORMS_JS.encode(), "text/javascript; charset=utf-8")
        assets["/media/logo.png"] = Asset(make_png(48, 48, img_rng, 8), "image/png")
        for n in PHOTO_NAMES:
            assets[f"/media/{n}.png"] = Asset(make_png(120, 80, img_rng), "image/png")
        for n in ICON_NAMES:
            assets[f"/media/icon-{n}.png"] = Asset(make_png(24, 24, img_rng, 4), "image/png")
        assets["/favicon.ico"] = Asset(make_png(16, 16, img_rng, 0), "image/png")

        # sitemap order: home first, then as built (insertion order)
        return self.site


def build_site(pages: int = 300, seed: int = 1) -> Site:
    """Build the site in memory (deterministic for ``(pages, seed)``)."""
    site = _Builder(pages, seed).build()
    if len(site.pages) != pages:
        raise AssertionError(f"built {len(site.pages)} pages, wanted {pages}")
    return site


# --------------------------------------------------------------------------------------------
# Serving
# --------------------------------------------------------------------------------------------


class SiteServer(LoopbackServer):
    """Serves a :class:`Site` on 127.0.0.1:<free port> from a daemon thread; counts requests."""

    def __init__(self, site: Site, port: int = 0, control: bool = False, delay: float = 0.0):
        super().__init__(self._answer, port=port, name="sitegen-server", server_version="sitegen",
                         not_found=NOT_FOUND, on_request=self.count, log_requests=False)
        self.site = site
        self.control = control
        self.delay = delay
        self._stats_lock = threading.Lock()
        self.stats: Counter = Counter()

    def page_urls(self) -> list[str]:
        return [self.origin + p for p in self.site.pages]

    def _answer(self, request) -> Reply:
        site = self.site
        parts = urlsplit(request.path)
        path = parts.path
        if self.delay:
            time.sleep(self.delay)
        if path == "/sitemap.xml":
            return Reply(200, site.sitemap(self.origin), "application/xml")
        if path == "/robots.txt":
            return Reply(200, site.robots(self.origin), "text/plain; charset=utf-8")
        if path == "/__bench/mutate" and self.control:
            q = parse_qs(parts.query)
            try:
                info = site.mutate(q.get("kind", ["page"])[0], q.get("path", [None])[0])
            except (KeyError, ValueError) as exc:
                return Reply(400, str(exc), "text/plain; charset=utf-8")
            info["affected_count"] = len(info["affected"])
            return Reply(200, json.dumps(info), "application/json")
        with site.lock:
            body = site.pages.get(path)
            asset = site.assets.get(path) if body is None else None
        if body is not None:
            ctype, cache = "text/html; charset=utf-8", "no-cache"
        elif asset is not None:
            body, ctype, cache = asset.body, asset.ctype, asset.cache
        else:
            return NOT_FOUND
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        headers = {"Cache-Control": cache, "ETag": etag, "Last-Modified": LAST_MODIFIED}
        if request.headers.get("If-None-Match") == etag:
            return Reply(304, b"", None, headers)
        return Reply(200, body, ctype, headers)

    def count(self, record: RequestRecord) -> None:
        path = urlsplit(record.target).path
        is_page = path in self.site.pages
        browser = record.headers.get("Sec-Fetch-Dest") is not None
        with self._stats_lock:
            self.stats["requests"] += 1
            self.stats["bytes"] += record.nbytes
            self.stats[f"status_{record.status}"] += 1
            if is_page:
                self.stats["page_requests_browser" if browser else "page_requests_other"] += 1
            elif path.startswith(("/assets/", "/media/")):
                self.stats["asset_requests"] += 1

    def snapshot(self) -> dict[str, int]:
        with self._stats_lock:
            return dict(self.stats)

    def reset_stats(self) -> None:
        super().reset_stats()
        with self._stats_lock:
            self.stats.clear()


NOT_FOUND = Reply(404, b"<!doctype html><html lang=en><title>Page not found</title><h1>Page not found</h1></html>",
                  headers={"Cache-Control": "no-store"})


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Generate (and serve) a deterministic synthetic council site.")
    ap.add_argument("--pages", type=int, default=300, help="number of HTML pages (default 300; e.g. 2000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--serve", action="store_true", help="serve on 127.0.0.1 until Ctrl-C")
    ap.add_argument("--port", type=int, default=0, help="port for --serve (default: a free one)")
    ap.add_argument("--control", action="store_true",
                    help="with --serve: enable GET /__bench/mutate?kind=page|script|forms-script|style|image[&path=/x]")
    ap.add_argument("--mutate", action="append", default=[], metavar="KIND[:PATH]",
                    help="apply a mutation before serving/writing (repeatable), e.g. script or page:/news")
    ap.add_argument("--out", help="write pages, assets, sitemap.xml (for http://127.0.0.1) and robots.txt to DIR")
    ap.add_argument("--stats", action="store_true", help="print page count, sizes and planted violations")
    args = ap.parse_args(argv)

    site = build_site(args.pages, args.seed)
    for m in args.mutate:
        kind, _, path = m.partition(":")
        print(site.mutate(kind, path or None)["what"], file=sys.stderr)
    sizes = [len(b) for b in site.pages.values()]
    if args.stats or not (args.serve or args.out):
        rules = Counter(r for v in site.expected.values() for r in v)
        print(f"{len(site.pages)} pages, {sum(sizes) / 1024:.0f} KB of HTML, page size {min(sizes) / 1024:.1f}-"
              f"{max(sizes) / 1024:.1f} KB (mean {sum(sizes) / len(sizes) / 1024:.1f}); {len(site.assets)} assets; "
              f"digest {site.digest()[:16]}")
        print("planted violations (pages): " + ", ".join(f"{k} {v}" for k, v in sorted(rules.items())))
    if args.out:
        out = Path(args.out)
        for p, body in list(site.pages.items()) + [(p, a.body) for p, a in site.assets.items()]:
            f = out / (p.lstrip("/") or "index") if p != "/" else out / "index.html"
            if p in site.pages and p != "/":
                f = out / p.lstrip("/") / "index.html"
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_bytes(body)
        (out / "sitemap.xml").write_bytes(site.sitemap("http://127.0.0.1"))
        (out / "robots.txt").write_bytes(site.robots("http://127.0.0.1"))
        print(f"wrote {len(site.pages)} pages and {len(site.assets)} assets to {out}", file=sys.stderr)
    if args.serve:
        srv = SiteServer(site, port=args.port, control=args.control)
        print(f"serving {len(site.pages)} pages on {srv.url} (sitemap {srv.origin}/sitemap.xml); Ctrl-C to stop",
              flush=True)
        try:
            srv.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
