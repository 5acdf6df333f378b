package exo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
)

// ConfirmFunc answers a cmdlet's confirmation question (the service's
// @adminapi.confirmationmessage, e.g. `Removing mailbox "alice" will remove the Windows Live ID
// ...`): true goes ahead, false declines. An error stops the invocation.
type ConfirmFunc func(ctx context.Context, message string) (bool, error)

// WithConfirm answers the service's confirmation questions. A state-changing cmdlet asks when
// the caller passed -Confirm, or when it is high impact (most Remove-*) and the caller did not
// pass -Confirm:$false. The service then only validates and changes nothing; on a yes the same
// request is sent again (same client-request-id: one invocation) with "Confirm": false, as the
// module does after the user answers. Without WithConfirm such a question ends the invocation
// with a *ConfirmationRequiredError. -WhatIf never asks: its message comes back in
// Page.ConfirmationMessage and nothing changes.
func WithConfirm(fn ConfirmFunc) InvokeOption {
	return func(c *invokeConfig) { c.confirm = fn }
}

// ErrDeclined is returned when a ConfirmFunc said no: nothing was changed. PowerShell shows
// nothing in that case; a caller that wants the same silence checks errors.Is(err, ErrDeclined).
var ErrDeclined = errors.New("declined: nothing was changed")

// ConfirmationRequiredError is returned when the service asks for confirmation and the
// invocation has no WithConfirm (nothing was changed).
type ConfirmationRequiredError struct {
	Cmdlet  string
	Message string // the service's confirmation message
}

func (e *ConfirmationRequiredError) Error() string {
	return fmt.Sprintf("%s asks for confirmation (%s) and nothing was changed: add -Confirm:$false to run it without asking",
		e.Cmdlet, strings.Join(strings.Fields(e.Message), " "))
}

// switchParam reads a switch parameter by name or alias, any case: its value and whether it
// was given.
func switchParam(p Params, names ...string) (value, given bool) {
	for k, v := range p {
		for _, n := range names {
			if strings.EqualFold(k, n) {
				b, ok := v.(bool)
				return ok && b || !ok && v != nil, true
			}
		}
	}
	return false, false
}

// whatIf reports whether p asks for -WhatIf.
func whatIf(p Params) bool {
	v, _ := switchParam(p, "WhatIf", "wi")
	return v
}

// confirmed returns p with -Confirm:$false in place of any -Confirm the caller gave.
func confirmed(p Params) Params {
	out := maps.Clone(p)
	if out == nil {
		out = Params{}
	}
	for k := range out {
		if strings.EqualFold(k, "Confirm") || strings.EqualFold(k, "cf") {
			delete(out, k)
		}
	}
	out["Confirm"] = false
	return out
}
