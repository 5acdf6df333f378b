package catalog

import (
	"strings"
)

// Kind is how a parameter's JSON value binds: the family of its .NET type.
type Kind uint8

// The kinds of parameter types.
const (
	KindString         Kind = iota // String and every type the binder does not know
	KindIdentity                   // *IdParameter and other identities: a non-empty string
	KindInt                        // Int16/Int32/Int64/UInt16/UInt32/UInt64/Byte
	KindDouble                     // Double
	KindBool                       // Boolean
	KindSwitch                     // SwitchParameter
	KindStrings                    // arrays: String[], X[] (a scalar binds as one element)
	KindMultiValued                // MultiValuedProperty, ProxyAddressCollection: a list, or @{Add;Remove}
	KindHashtable                  // Hashtable, PswsHashtable
	KindHashtables                 // Hashtable[]
	KindResultSize                 // Unlimited[UInt32] (-ResultSize) and other Unlimited counts
	KindByteSize                   // ByteQuantifiedSize
	KindUnlimitedBytes             // Unlimited[ByteQuantifiedSize]
	KindTimeSpan                   // TimeSpan, EnhancedTimeSpan
	KindUnlimitedTime              // Unlimited[EnhancedTimeSpan]
	KindDateTime                   // DateTime, ExDateTime, DateTimeOffset
	KindGuid                       // Guid
	KindSmtpAddress                // SmtpAddress
	KindSmtpAddresses              // SmtpAddress[]
	KindProxyAddress               // ProxyAddress
	KindEnum                       // an enum whose values are known
	KindEnums                      // an array of such an enum
	KindObject                     // PSCredential, SecureString, Byte[], certificates...: the JSON value as given
)

// typeInfo is what the binder knows of a catalog type name.
type typeInfo struct {
	kind Kind
	net  string // the full .NET name, for error texts
	min  int64  // integer range
	max  int64
}

const maxInt64 = int64(^uint64(0) >> 1)

var intTypes = map[string]typeInfo{
	"Int16":  {KindInt, "System.Int16", -1 << 15, 1<<15 - 1},
	"Int32":  {KindInt, "System.Int32", -1 << 31, 1<<31 - 1},
	"Int64":  {KindInt, "System.Int64", -maxInt64 - 1, maxInt64},
	"UInt16": {KindInt, "System.UInt16", 0, 1<<16 - 1},
	"UInt32": {KindInt, "System.UInt32", 0, 1<<32 - 1},
	"UInt64": {KindInt, "System.UInt64", 0, maxInt64},
	"Byte":   {KindInt, "System.Byte", 0, 255},
}

// unlimitedKinds says what an Unlimited parameter counts, for the pages that write only
// "Unlimited" without its type argument: sizes, time spans or plain counts (the default).
var unlimitedTime = []string{"Interval", "Expiration", "Duration", "Period", "AgeLimit", "Lock", "HoldContent"}

const (
	netByteSize          = "Microsoft.Exchange.Data.ByteQuantifiedSize"
	netUnlimitedBytes    = "Microsoft.Exchange.Data.Unlimited`1[Microsoft.Exchange.Data.ByteQuantifiedSize]"
	netUnlimitedUInt32   = "Microsoft.Exchange.Data.Unlimited`1[System.UInt32]"
	netUnlimitedInt32    = "Microsoft.Exchange.Data.Unlimited`1[System.Int32]"
	netUnlimitedTimeSpan = "Microsoft.Exchange.Data.Unlimited`1[Microsoft.Exchange.Data.EnhancedTimeSpan]"
)

// classify maps a parameter's catalog type to how it binds.
func classify(p *Param) typeInfo {
	t := strings.TrimSpace(p.Type)
	short := strings.TrimPrefix(t, "System.")
	switch {
	case p.Switch || short == "SwitchParameter":
		return typeInfo{kind: KindSwitch, net: "System.Management.Automation.SwitchParameter"}
	case len(p.Values) > 0:
		net := t
		switch elem := strings.TrimSuffix(short, "[]"); {
		case strings.EqualFold(elem, "String"):
			net = "System." + strings.Replace(short, elem, "String", 1)
		case !strings.Contains(net, "."):
			net = enumNamespace(net)
		}
		return enumInfo(net, strings.HasSuffix(t, "[]"))
	}
	if v, ok := knownEnums[strings.TrimSuffix(short, "[]")]; ok && len(v.values) > 0 {
		if strings.HasSuffix(short, "[]") {
			return enumInfo(v.net+"[]", true)
		}
		return enumInfo(v.net, false)
	}
	if it, ok := intTypes[short]; ok {
		return it
	}
	switch short {
	case "String", "string":
		return typeInfo{kind: KindString, net: "System.String"}
	case "Boolean", "bool":
		return typeInfo{kind: KindBool, net: "System.Boolean"}
	case "Double":
		return typeInfo{kind: KindDouble, net: "System.Double"}
	case "String[]":
		return typeInfo{kind: KindStrings, net: "System.String[]"}
	case "MultiValuedProperty":
		return typeInfo{kind: KindMultiValued, net: "Microsoft.Exchange.Data.MultiValuedProperty`1[System.String]"}
	case "ProxyAddressCollection", "ProxyAddressTemplateCollection", "ApprovedApplicationCollection":
		return typeInfo{kind: KindMultiValued, net: "Microsoft.Exchange.Data." + short}
	case "Hashtable", "PswsHashtable", "Collections.Hashtable":
		return typeInfo{kind: KindHashtable, net: "System.Collections.Hashtable"}
	case "Hashtable[]", "PswsHashtable[]", "Collections.Hashtable[]":
		return typeInfo{kind: KindHashtables, net: "System.Collections.Hashtable[]"}
	case "ByteQuantifiedSize", "Microsoft.Exchange.Data.ByteQuantifiedSize":
		return typeInfo{kind: KindByteSize, net: netByteSize}
	case "TimeSpan":
		return typeInfo{kind: KindTimeSpan, net: "System.TimeSpan"}
	case "EnhancedTimeSpan", "Microsoft.Exchange.Data.EnhancedTimeSpan":
		return typeInfo{kind: KindTimeSpan, net: "Microsoft.Exchange.Data.EnhancedTimeSpan"}
	case "DateTime", "ExDateTime", "DateTimeOffset":
		return typeInfo{kind: KindDateTime, net: "System.DateTime"}
	case "Guid":
		return typeInfo{kind: KindGuid, net: "System.Guid"}
	case "SmtpAddress":
		return typeInfo{kind: KindSmtpAddress, net: "Microsoft.Exchange.Data.SmtpAddress"}
	case "SmtpAddress[]":
		return typeInfo{kind: KindSmtpAddresses, net: "Microsoft.Exchange.Data.SmtpAddress[]"}
	case "ProxyAddress":
		return typeInfo{kind: KindProxyAddress, net: "Microsoft.Exchange.Data.ProxyAddress"}
	case "UnlimitedInt":
		return typeInfo{kind: KindResultSize, net: netUnlimitedInt32}
	case "PSCredential", "SecureString", "Byte[]", "X509Certificate2", "Stream", "PSObject", "Object", "Object[]":
		return typeInfo{kind: KindObject, net: t}
	}
	if strings.HasPrefix(short, "Unlimited") || strings.Contains(t, ".Unlimited`1[") {
		return unlimited(p.Name, t)
	}
	if strings.HasSuffix(short, "[]") {
		return typeInfo{kind: KindStrings, net: qualify(t)}
	}
	if strings.HasSuffix(short, "IdParameter") || strings.HasSuffix(short, "Identity") {
		return typeInfo{kind: KindIdentity, net: qualify(t)}
	}
	return typeInfo{kind: KindString, net: qualify(t)}
}

func enumInfo(net string, array bool) typeInfo {
	if array {
		return typeInfo{kind: KindEnums, net: net}
	}
	return typeInfo{kind: KindEnum, net: net}
}

// unlimited classifies an Unlimited`1[T] type; pages that omit T are read by the parameter's
// name (ProhibitSendQuota, MaxSendSize: sizes; RetentionDuration: a time span; else a count).
func unlimited(name, t string) typeInfo {
	switch {
	case strings.Contains(t, "ByteQuantifiedSize"):
		return typeInfo{kind: KindUnlimitedBytes, net: netUnlimitedBytes}
	case strings.Contains(t, "TimeSpan"):
		return typeInfo{kind: KindUnlimitedTime, net: netUnlimitedTimeSpan}
	case strings.Contains(t, "UInt32"), name == "ResultSize", name == "PageResultSize":
		return typeInfo{kind: KindResultSize, net: netUnlimitedUInt32}
	case strings.Contains(t, "["):
		return typeInfo{kind: KindResultSize, net: t}
	}
	lower := strings.ToLower(name)
	if (strings.HasSuffix(lower, "quota") || strings.HasSuffix(lower, "size") || strings.HasSuffix(lower, "itemsize")) &&
		!strings.Contains(lower, "truncation") && lower != "linewrapsize" {
		return typeInfo{kind: KindUnlimitedBytes, net: netUnlimitedBytes}
	}
	for _, s := range unlimitedTime {
		if strings.HasSuffix(lower, strings.ToLower(s)) {
			return typeInfo{kind: KindUnlimitedTime, net: netUnlimitedTimeSpan}
		}
	}
	return typeInfo{kind: KindResultSize, net: netUnlimitedInt32}
}

// qualify gives a short Exchange type name its namespace for error texts.
func qualify(t string) string {
	if strings.Contains(t, ".") {
		return t
	}
	if strings.HasSuffix(strings.TrimSuffix(t, "[]"), "IdParameter") {
		return "Microsoft.Exchange.Configuration.Tasks." + t
	}
	return "Microsoft.Exchange.Data." + t
}

func enumNamespace(t string) string {
	if v, ok := knownEnums[strings.TrimSuffix(t, "[]")]; ok {
		if strings.HasSuffix(t, "[]") {
			return v.net + "[]"
		}
		return v.net
	}
	return qualify(t)
}

// enumType is an Exchange enum whose values the pages do not list per parameter.
type enumType struct {
	net    string
	values []string
}

// knownEnums are the values of enums used across many cmdlets, from the type definitions the
// service reports in its conversion errors.
var knownEnums = map[string]enumType{
	"RecipientTypeDetails": {"Microsoft.Exchange.Data.Directory.Recipient.RecipientTypeDetails", []string{
		"DiscoveryMailbox", "DisabledUser", "DynamicDistributionGroup", "EquipmentMailbox", "GroupMailbox",
		"GuestMailUser", "LegacyMailbox", "LinkedMailbox", "LinkedRoomMailbox", "LinkedUser", "MailContact",
		"MailForestContact", "MailNonUniversalGroup", "MailUniversalDistributionGroup", "MailUniversalSecurityGroup",
		"MailUser", "MailboxPlan", "PublicFolder", "PublicFolderMailbox", "RemoteEquipmentMailbox", "RemoteRoomMailbox",
		"RemoteSharedMailbox", "RemoteTeamMailbox", "RemoteUserMailbox", "RoleGroup", "RoomList", "RoomMailbox",
		"SchedulingMailbox", "SharedMailbox", "SharedWithMailUser", "TeamMailbox", "User", "UserMailbox",
	}},
	"ConvertibleMailboxSubType": {"Microsoft.Exchange.Management.RecipientTasks.ConvertibleMailboxSubType",
		[]string{"Regular", "Room", "Equipment", "Shared", "Workspace"}},
	"ActionPreference": {"System.Management.Automation.ActionPreference",
		[]string{"SilentlyContinue", "Stop", "Continue", "Inquire", "Ignore", "Suspend", "Break"}},
	"RecipientType": {"Microsoft.Exchange.Data.Directory.Recipient.RecipientType", []string{
		"DynamicDistributionGroup", "MailContact", "MailNonUniversalGroup", "MailUniversalDistributionGroup",
		"MailUniversalSecurityGroup", "MailUser", "PublicFolder", "User", "UserMailbox",
	}},
}

// enumValues returns the accepted values of an enum parameter.
func enumValues(p *Param) []string {
	if len(p.Values) > 0 {
		return p.Values
	}
	return knownEnums[strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(p.Type), "System."), "[]")].values
}
