package cli

import (
	"fmt"
	"strings"

	"github.com/exoctl/exoctl/psparam"
)

// runLocalCmdlet answers the module's own connection cmdlets, which never reach the service:
// Get-ConnectionInformation and Disconnect-ExchangeOnline with their -ConnectionId and
// -ModulePrefix filters. It reports whether the cmdlet was one of them.
func runLocalCmdlet(f *Factory, o *RunOptions, c *psparam.Command) (bool, error) {
	switch {
	case strings.EqualFold(c.Name, "Get-ConnectionInformation"):
		id, prefix, err := connectionFilters(c)
		if err != nil {
			return true, err
		}
		st, err := f.connections()
		if err != nil {
			return true, err
		}
		ps, err := st.List()
		if err != nil {
			return true, err
		}
		return true, writeConnections(f, o.Output, filterConnections(ps, "", id, prefix))
	case strings.EqualFold(c.Name, "Disconnect-ExchangeOnline"):
		id, prefix, err := connectionFilters(c, "Confirm")
		if err != nil {
			return true, err
		}
		yes := false
		if v, ok := c.Lookup("Confirm"); ok {
			b, isBool := v.(bool)
			if !isBool {
				return true, fmt.Errorf("Disconnect-ExchangeOnline -Confirm takes $true or $false")
			}
			yes = !b
		}
		st, err := f.connections()
		if err != nil {
			return true, err
		}
		unlock, err := st.Lock()
		if err != nil {
			return true, err
		}
		defer unlock()
		ps, err := st.List()
		if err != nil {
			return true, err
		}
		// As the module: no filter disconnects every connection.
		targets := filterConnections(ps, "", id, prefix)
		if len(targets) == 0 && (id != "" || prefix != "") {
			return true, fmt.Errorf("no connection has that ConnectionId or prefix: exoctl connections lists them")
		}
		return true, disconnect(f, st, targets, yes)
	}
	return false, nil
}

// connectionFilters reads -ConnectionId and -ModulePrefix (both take one or more values in
// the module; one each here), refusing other parameters but the allowed ones.
func connectionFilters(c *psparam.Command, allowed ...string) (connectionID, prefix string, err error) {
	for _, p := range c.Params {
		switch {
		case strings.EqualFold(p.Name, "ConnectionId"):
			connectionID, err = oneString(c.Name, p)
		case strings.EqualFold(p.Name, "ModulePrefix"):
			prefix, err = oneString(c.Name, p)
		default:
			ok := false
			for _, a := range allowed {
				ok = ok || strings.EqualFold(p.Name, a)
			}
			if !ok {
				return "", "", fmt.Errorf("A parameter cannot be found that matches parameter name '%s' (%s takes -ConnectionId and -ModulePrefix)", p.Name, c.Name)
			}
		}
		if err != nil {
			return "", "", err
		}
	}
	return connectionID, prefix, nil
}

func oneString(cmdlet string, p psparam.Param) (string, error) {
	switch v := p.Value.(type) {
	case string:
		return v, nil
	case []any:
		if len(v) == 1 {
			if s, ok := v[0].(string); ok {
				return s, nil
			}
		}
	}
	return "", fmt.Errorf("%s -%s takes one value here", cmdlet, p.Name)
}
