// The JavaScript client's own informer (makeInformer from @kubernetes/client-node) on Events.
//
// Run by the conformance suite (tests/conformance/script_client.rs) against the real
// kube-apiserver and the simulation alike: `node informer.mjs KUBECONFIG NAMESPACE`. It prints
// one JSON object a line on stdout, and runs until it is killed:
//
// - {"request": {method, path, query, answer}}: every HTTP request the client library sent,
//   recorded where node-fetch hands it to Node's http/https modules, with its status, or
//   "refused" when no answer came;
// - {"event": "ADDED" | "MODIFIED" | "DELETED", "name": NAME}: what the informer told its
//   handlers, from which the suite keeps the informer's store.
//
// The informer lists, watches and relists as the library does. It stops on any error but a 410
// and leaves restarting to its user; this script restarts it after 5 s, as the library's own
// README example does (`informer.on('error', ...)` then `setTimeout(() => informer.start(),
// 5000)`).

import http from 'node:http';
import https from 'node:https';

import * as k8s from '@kubernetes/client-node';

function emit(fields) {
  process.stdout.write(JSON.stringify(fields) + '\n');
}

function sent(request, answer) {
  const [path, query = ''] = request.path.split('?');
  emit({ request: { method: request.method, path, query, answer } });
}

// node-fetch reads `request` off these modules at each call, so every request goes through here.
for (const module of [http, https]) {
  const original = module.request;
  module.request = function request(...args) {
    const req = original.apply(this, args);
    let answered = false;
    req.on('response', (response) => {
      answered = true;
      sent(req, String(response.statusCode));
    });
    req.on('error', () => {
      if (!answered) {
        answered = true;
        sent(req, 'refused');
      }
    });
    return req;
  };
}

const [kubeconfig, namespace] = process.argv.slice(2);
const kc = new k8s.KubeConfig();
kc.loadFromFile(kubeconfig);
const api = kc.makeApiClient(k8s.CoreV1Api);
const informer = k8s.makeInformer(
  kc,
  `/api/v1/namespaces/${namespace}/events`,
  () => api.listNamespacedEvent({ namespace }),
);
informer.on('add', (obj) => emit({ event: 'ADDED', name: obj.metadata.name }));
informer.on('update', (obj) => emit({ event: 'MODIFIED', name: obj.metadata.name }));
informer.on('delete', (obj) => emit({ event: 'DELETED', name: obj.metadata.name }));
informer.on('error', (err) => {
  process.stderr.write(`informer error: ${err}\n`);
  setTimeout(() => informer.start(), 5000);
});
await informer.start();
