"""The Python client's own informer (kubernetes.informer.SharedInformer) on Events.

Run by the conformance suite (tests/conformance/script_client.rs) against the real
kube-apiserver and the simulation alike: `informer.py KUBECONFIG NAMESPACE`. It prints one JSON
object a line on stdout, and runs until it is killed:

- {"request": {"method", "path", "query", "answer"}}: every HTTP request the client library
  sent, recorded where urllib3 makes each attempt, with its status, or "refused" when no
  answer came. urllib3's own retries are separate requests here, as they are on the wire;
- {"event": "ADDED" | "MODIFIED" | "DELETED", "name": NAME}: what the informer told its
  handlers, from which the suite keeps the informer's store.

Nothing here decides what the client does: the informer lists, watches, re-watches and relists
as the library does, with the library's defaults.
"""

import json
import sys
import threading
import urllib.parse

from urllib3.connectionpool import HTTPConnectionPool

from kubernetes import client, config
from kubernetes.informer import ADDED, DELETED, MODIFIED, SharedInformer

_out = threading.Lock()


def emit(**fields):
    with _out:
        sys.stdout.write(json.dumps(fields) + "\n")
        sys.stdout.flush()


def _sent(method, url, answer):
    parsed = urllib.parse.urlsplit(url)
    emit(request={"method": method, "path": parsed.path, "query": parsed.query, "answer": answer})


# Every attempt urllib3 makes, its own retries included, connects (or fails to) and sends its
# request in here, over HTTP and HTTPS alike.
_make_request = HTTPConnectionPool._make_request


def make_request(self, conn, method, url, *args, **kwargs):
    try:
        response = _make_request(self, conn, method, url, *args, **kwargs)
    except Exception:
        _sent(method, url, "refused")
        raise
    _sent(method, url, str(response.status))
    return response


HTTPConnectionPool._make_request = make_request


def main():
    kubeconfig, namespace = sys.argv[1], sys.argv[2]
    config.load_kube_config(config_file=kubeconfig)
    informer = SharedInformer(client.CoreV1Api().list_namespaced_event, namespace=namespace)
    for kind in (ADDED, MODIFIED, DELETED):
        informer.add_event_handler(kind, lambda obj, kind=kind: emit(event=kind, name=obj.metadata.name))
    informer.start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
