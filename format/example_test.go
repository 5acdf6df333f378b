package format_test

import (
	"encoding/json"
	"os"

	"github.com/exoctl/exoctl/exo"
	"github.com/exoctl/exoctl/format"
)

// A cmdlet's records, page by page, in Get-AcceptedDomain's default view.
func ExampleNew() {
	var page struct {
		Value []*exo.Record `json:"value"`
	}
	json.Unmarshal([]byte(`{"value":[
		{"Name":"contoso.onmicrosoft.com","DomainName":"contoso.onmicrosoft.com","DomainType":"Authoritative","Default":true,"Guid@data.type":"System.Guid","Guid":"2b1c4f5e-8d1a-4b3e-9f0a-6c7d8e9f0a1b"},
		{"Name":"contoso.com","DomainName":"contoso.com","DomainType":"Authoritative","Default":false}]}`), &page)

	w, err := format.New(os.Stdout, format.Options{TypeName: format.TypeNameFor("Get-AcceptedDomain")})
	if err != nil {
		panic(err)
	}
	for _, r := range page.Value {
		w.Write(r)
	}
	w.Flush() // end of the page: its rows print now
	w.Close()
	// Output:
	// Name                    DomainName              DomainType    Default
	// ----                    ----------              ----------    -------
	// contoso.onmicrosoft.com contoso.onmicrosoft.com Authoritative True
	// contoso.com             contoso.com             Authoritative False
}
