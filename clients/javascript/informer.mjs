// The JavaScript client's informer as its users build one, for `harness exec`:
// makeInformer from @kubernetes/client-node on one resource in every namespace, restarted 5 s
// after an error as the library's README does, that writes its cache for the verdict.
//
//   harness exec scenarios/forced-410.yaml -- \
//       clients/javascript/node_modules/.bin/node clients/javascript/informer.mjs v1 ConfigMap configmaps
//
// Arguments: the resource's apiVersion, kind and plural. The kubeconfig is the one $KUBECONFIG
// names (harness exec sets it). On SIGTERM it writes one JSON line per object in its cache,
// {"key": "namespace/name", "resourceVersion": "N"}, to the file $KWH_VIEW_FILE names, then
// exits.

import { writeFileSync } from 'node:fs';

import * as k8s from '@kubernetes/client-node';

const [apiVersion, kind, plural] = process.argv.slice(2);
if (!plural) {
  process.stderr.write('usage: informer.mjs API_VERSION KIND PLURAL (e.g. v1 ConfigMap configmaps)\n');
  process.exit(2);
}
const kc = new k8s.KubeConfig();
kc.loadFromDefault();
const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
const path = apiVersion.includes('/') ? `/apis/${apiVersion}/${plural}` : `/api/${apiVersion}/${plural}`;
const informer = k8s.makeInformer(kc, path, () => objects.list(apiVersion, kind));
informer.on('error', (err) => {
  process.stderr.write(`informer error: ${err}\n`);
  setTimeout(() => informer.start(), 5000);
});

process.on('SIGTERM', () => {
  const file = process.env.KWH_VIEW_FILE;
  if (file) {
    const lines = informer.list().map((object) => {
      const { name, namespace, resourceVersion } = object.metadata;
      const key = namespace ? `${namespace}/${name}` : name;
      return JSON.stringify({ key, resourceVersion }) + '\n';
    });
    writeFileSync(file, lines.join(''));
  }
  process.exit(0);
});

await informer.start();
