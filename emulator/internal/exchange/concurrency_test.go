package exchange

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestConcurrentSetMailbox: 50 Set-Mailbox calls at once on one mailbox, each changing a
// different property, all answered 200: every change is there afterwards (each call is one
// read-modify-write transaction, none overwrites another's).
func TestConcurrentSetMailbox(t *testing.T) {
	t.Parallel()
	e, _ := mutableEnv(t)
	e.newShared("Busy Mailbox", nil)
	changes := map[string]any{
		"DisplayName": "Busy (renamed)", "Office": "Seattle 2/101", "SimpleDisplayName": "Busy", "MailTip": "Shared inbox",
		"RetentionComment": "kept 7 years", "RetentionUrl": "https://contoso.com/retention", "LitigationHoldOwner": "legal@contoso.com",
		"AuditEnabled": false, "CalendarRepairDisabled": true, "DeliverToMailboxAndForward": true, "ElcProcessingDisabled": true,
		"HiddenFromAddressListsEnabled": true, "IsExcludedFromServingHierarchy": true, "LitigationHoldEnabled": true,
		"MessageCopyForSendOnBehalfEnabled": true, "MessageCopyForSentAsEnabled": true, "MessageTrackingReadStatusEnabled": false,
		"ModerationEnabled": true, "RequireSenderAuthenticationEnabled": true, "RetentionHoldEnabled": true,
		"SingleItemRecoveryEnabled": false, "UseDatabaseRetentionDefaults": true,
		"Languages": []any{"en-US"}, "ArchiveName": []any{"Busy Archive"}, "MailTipTranslations": []any{"FR:Boite partagee"},
		"RetainDeletedItemsFor": "30.00:00:00", "AuditLogAgeLimit": "180.00:00:00",
		"MaxSendSize": "20MB", "MaxReceiveSize": "25MB", "RulesQuota": "128KB",
	}
	for i := 1; i <= 15; i++ {
		changes[fmt.Sprint("CustomAttribute", i)] = fmt.Sprint("value ", i)
	}
	for i := 1; i <= 5; i++ {
		changes[fmt.Sprint("ExtensionCustomAttribute", i)] = []any{fmt.Sprint("ext ", i)}
	}
	if len(changes) != 50 {
		t.Fatalf("%d changes", len(changes))
	}
	var wg sync.WaitGroup
	errs := make(chan string, len(changes))
	for name, v := range changes {
		wg.Go(func() {
			a := e.do(call{cmdlet: "Set-Mailbox", params: map[string]any{"Identity": "Busy Mailbox", name: v}})
			if a.status != 200 || len(a.warnings()) != 0 {
				errs <- fmt.Sprintf("Set-Mailbox -%s: %s", name, a)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	m := e.mailbox("Busy Mailbox")
	want := map[string]string{"MaxSendSize": "20 MB (20,971,520 bytes)", "MaxReceiveSize": "25 MB (26,214,400 bytes)", "RulesQuota": "128 KB (131,072 bytes)"}
	for name, v := range changes {
		got := fmt.Sprint(m[name])
		exp := fmt.Sprint(v)
		if w, ok := want[name]; ok {
			exp = w
		}
		if got != exp {
			t.Errorf("%s = %s, want %s", name, got, exp)
		}
	}
}

// TestConcurrentNewMailbox: 20 New-Mailbox calls at once with one name create exactly one
// mailbox; the others get the service's already-exists error, and no address is held twice.
func TestConcurrentNewMailbox(t *testing.T) {
	t.Parallel()
	e, _ := mutableEnv(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	created, refused := 0, 0
	for i := range 20 {
		wg.Go(func() {
			a := e.do(call{cmdlet: "New-Mailbox", params: map[string]any{"Name": "Race", "Shared": true, "Alias": fmt.Sprint("race", i)}})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case a.status == 200:
				created++
			case a.status == 400 && strings.Contains(a.text(), `The name "Race" is already being used. Please try another name.`):
				refused++
			default:
				t.Errorf("New-Mailbox: %s", a)
			}
		})
	}
	wg.Wait()
	if created != 1 || refused != 19 {
		t.Errorf("%d created, %d refused", created, refused)
	}
	a := e.do(call{cmdlet: "Get-Mailbox", params: map[string]any{"Filter": "Name -eq 'Race'"}})
	if a.status != 200 || len(a.values()) != 1 {
		t.Errorf("Get-Mailbox -Filter: %s", a)
	}
	// Same primary address, different names: one wins the address.
	created = 0
	for i := range 10 {
		wg.Go(func() {
			a := e.do(call{cmdlet: "New-Mailbox", params: map[string]any{"Name": fmt.Sprint("Desk ", i), "Shared": true, "PrimarySmtpAddress": "desk@contoso.com"}})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case a.status == 200:
				created++
			case a.status != 400 || !strings.Contains(a.text(), `The proxy address "SMTP:desk@contoso.com" is already being used`):
				t.Errorf("New-Mailbox: %s", a)
			}
		})
	}
	wg.Wait()
	if created != 1 {
		t.Errorf("%d mailboxes got desk@contoso.com", created)
	}
}
