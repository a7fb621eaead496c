"""A stand-in browser for OAuth tests: fetch the authorization URL and follow its redirects.

Used as `$BROWSER` ("python fake_browser.py %s"): the authorization server approves at once
and redirects to the client's loopback listener, which this request then reaches.
"""

from __future__ import annotations

import sys
import urllib.request


def main() -> int:
    """Visit the URL given as the only argument; exit 0 when the last page answered 200."""
    with urllib.request.urlopen(sys.argv[1], timeout=30) as response:
        return 0 if response.status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
