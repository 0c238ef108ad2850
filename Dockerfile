# a11ycrawl in a container with Debian's Chromium, for GitLab CI, cron and Kubernetes jobs.
# Build it from a checkout of this repository (it installs this checkout, never a package index
# name):
#   docker build -t a11ycrawl .
#   docker run --rm -v "$PWD:/work" a11ycrawl check --dir public --junit a11y.xml --sarif a11y.sarif
#   docker run --rm -v /srv/a11ycrawl:/work a11ycrawl audit https://www.example.gov.uk/ --db councils.db
# The image's entry point is a11ycrawl itself (under tini, so that Ctrl-C and `docker stop` end a
# run cleanly, as incomplete and resumable). GitLab jobs set `entrypoint: [""]` to get a shell
# (ci/a11ycrawl.gitlab-ci.yml does).
FROM debian:bookworm-slim

# Everything from Debian: Python 3.11, the Chromium headless shell (the engine without its user
# interface: less memory per page), fonts for text measurements, certificates, tini.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-venv chromium-headless-shell fonts-liberation ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*

COPY . /opt/a11ycrawl/src
RUN python3 -m venv /opt/a11ycrawl/venv \
 && /opt/a11ycrawl/venv/bin/pip install --no-cache-dir --disable-pip-version-check /opt/a11ycrawl/src \
 && ln -s /opt/a11ycrawl/venv/bin/a11ycrawl /usr/local/bin/a11ycrawl \
 && rm -rf /opt/a11ycrawl/src

ENV A11YCRAWL_CHROMIUM=/usr/lib/chromium/chromium-headless-shell \
    PYTHONUNBUFFERED=1
RUN useradd --system --create-home --home-dir /home/a11ycrawl --shell /usr/sbin/nologin a11ycrawl \
 && mkdir -p /work && chown a11ycrawl:a11ycrawl /work
USER a11ycrawl
WORKDIR /work
ENTRYPOINT ["/usr/bin/tini", "--", "a11ycrawl"]
CMD ["--help"]
