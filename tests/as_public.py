"""Run the a11ycrawl CLI as if 127.0.0.2 were a public address, for the address-fence tests.

A test cannot audit a real public site, and must never send a packet anywhere but loopback. So
this wrapper changes the one classification every fence asks (``crawler.urls.is_private_ip``):
127.0.0.2 counts as public, every other address keeps its class (127.0.0.1 stays loopback).
It also makes the DNS name ``intranet.test`` resolve to 127.0.0.1, standing for a public name
that points at an internal address. Everything else runs unchanged.

    python tests/as_public.py audit http://127.0.0.2:PORT/ ...
"""

import ipaddress
import socket
import sys

PUBLIC = ipaddress.ip_address("127.0.0.2")
INTERNAL_NAME = "intranet.test"

_getaddrinfo = socket.getaddrinfo


def getaddrinfo(host, port, *args, **kwargs):
    if isinstance(host, bytes):
        host = host.decode()
    if host and host.lower().rstrip(".") == INTERNAL_NAME:
        host = "127.0.0.1"
    return _getaddrinfo(host, port, *args, **kwargs)


# before Twisted is imported: its resolver binds socket.getaddrinfo when its module loads
socket.getaddrinfo = getaddrinfo

from crawler import urls  # noqa: E402

_is_private_ip = urls.is_private_ip


def is_private_ip(ip):
    return False if ip == PUBLIC else _is_private_ip(ip)


urls.is_private_ip = is_private_ip

if __name__ == "__main__":
    from reports.cli import main

    sys.argv[0] = "a11ycrawl"
    main()
