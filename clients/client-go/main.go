// Command client-go-informer is a client-go SharedInformer as most Go controllers build one
// (a dynamic informer factory, client-go's defaults, its reflector's own backoff and relist),
// for `harness exec` to judge: on SIGTERM it writes its cache to the file named by
// KWH_VIEW_FILE, one JSON line per object ({"key":"ns/name","resourceVersion":"37"}), and exits.
//
//	harness exec scenarios/forced-410.yaml --speed 20 -- \
//	    target/clients/client-go-informer v1 ConfigMap configmaps
//
// Arguments: the resource's apiVersion, kind and plural, as the scenario's `resource` names
// them. The kind is not needed by client-go; it is taken for the same command line as
// examples/view_client.rs.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "client-go-informer:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 4 {
		return fmt.Errorf("usage: client-go-informer API_VERSION KIND PLURAL (e.g. v1 ConfigMap configmaps)")
	}
	gv, err := schema.ParseGroupVersion(os.Args[1])
	if err != nil {
		return err
	}
	resource := gv.WithResource(os.Args[3])
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	config, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, nil).ClientConfig()
	if err != nil {
		return err
	}
	client, err := dynamic.NewForConfig(config)
	if err != nil {
		return err
	}
	factory := dynamicinformer.NewDynamicSharedInformerFactory(client, 0)
	informer := factory.ForResource(resource).Informer()
	stop := make(chan struct{})
	factory.Start(stop)

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	<-signals
	close(stop)
	return writeView(informer.GetStore())
}

// writeView writes the cache for the verdict, when the harness asked for it.
func writeView(store cache.Store) error {
	path := os.Getenv("KWH_VIEW_FILE")
	if path == "" {
		return nil
	}
	file, err := os.Create(path)
	if err != nil {
		return err
	}
	out := bufio.NewWriter(file)
	for _, item := range store.List() {
		object, ok := item.(*unstructured.Unstructured)
		if !ok {
			continue
		}
		key := object.GetName()
		if ns := object.GetNamespace(); ns != "" {
			key = strings.Join([]string{ns, key}, "/")
		}
		line, err := json.Marshal(map[string]string{
			"key":             key,
			"resourceVersion": object.GetResourceVersion(),
		})
		if err != nil {
			return err
		}
		out.Write(line)
		out.WriteString("\n")
	}
	if err := out.Flush(); err != nil {
		return err
	}
	return file.Close()
}
