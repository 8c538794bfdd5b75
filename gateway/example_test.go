package gateway_test

import (
	"log"
	"net/http"
	"time"

	"github.com/cvmtrust/cvmtrust/gateway"
	"github.com/cvmtrust/cvmtrust/gateway/simulated"
)

// A gateway for development: simulated reports, the widget served from
// ./web, and one other origin allowed to call the API. Inside an SEV-SNP
// guest, gateway.OpenSNP(0) takes the simulated source's place.
func ExampleNew() {
	src, err := simulated.New(simulated.Options{})
	if err != nil {
		log.Fatal(err)
	}
	g, err := gateway.New(gateway.Config{
		Source:         src,
		Matcher:        gateway.NewReferenceMatcher(),
		StaticDir:      "web",
		AllowedOrigins: []string{"https://app.example"},
	})
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: "127.0.0.1:8443", Handler: g, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
