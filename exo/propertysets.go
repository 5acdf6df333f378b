package exo

// Property sets of the Get-EXO* cmdlets, as Microsoft documents them ("Property sets in
// Exchange Online PowerShell module cmdlets"): -PropertySets names sets, their union is the
// request's $select; Minimum is the default, All asks for every property.

var mailboxSets = map[string][]string{
	"Minimum":        {"Alias", "DisplayName", "DistinguishedName", "EmailAddresses", "ExchangeVersion", "ExternalDirectoryObjectId", "Guid", "Id", "Name", "OrganizationId", "PrimarySmtpAddress", "RecipientType", "RecipientTypeDetails", "UserPrincipalName"},
	"AddressList":    {"AddressBookPolicy", "AddressListMembership", "ExternalDirectoryObjectId", "GeneratedOfflineAddressBooks", "HiddenFromAddressListsEnabled", "OfflineAddressBook"},
	"Archive":        {"ArchiveDatabase", "ArchiveDomain", "ArchiveGuid", "ArchiveName", "ArchiveQuota", "ArchiveRelease", "ArchiveState", "ArchiveStatus", "ArchiveWarningQuota", "AutoExpandingArchiveEnabled", "DisabledArchiveDatabase", "DisabledArchiveGuid", "ExternalDirectoryObjectId", "JournalArchiveAddress"},
	"Audit":          {"AuditAdmin", "AuditDelegate", "AuditEnabled", "AuditLogAgeLimit", "AuditOwner", "DefaultAuditSet", "ExternalDirectoryObjectId"},
	"Custom":         {"CustomAttribute1", "CustomAttribute2", "CustomAttribute3", "CustomAttribute4", "CustomAttribute5", "CustomAttribute6", "CustomAttribute7", "CustomAttribute8", "CustomAttribute9", "CustomAttribute10", "CustomAttribute11", "CustomAttribute12", "CustomAttribute13", "CustomAttribute14", "CustomAttribute15", "ExtensionCustomAttribute1", "ExtensionCustomAttribute2", "ExtensionCustomAttribute3", "ExtensionCustomAttribute4", "ExtensionCustomAttribute5", "ExternalDirectoryObjectId"},
	"Delivery":       {"AcceptMessagesOnlyFrom", "AcceptMessagesOnlyFromDLMembers", "AcceptMessagesOnlyFromSendersOrMembers", "DeliverToMailboxAndForward", "DowngradeHighPriorityMessagesEnabled", "ExternalDirectoryObjectId", "ForwardingAddress", "ForwardingSmtpAddress", "GrantSendOnBehalfTo", "MaxBlockedSenders", "MaxReceiveSize", "MaxSafeSenders", "MaxSendSize", "MessageCopyForSendOnBehalfEnabled", "MessageCopyForSentAsEnabled", "MessageRecallProcessingEnabled", "MessageTrackingReadStatusEnabled", "RecipientLimits", "RejectMessagesFrom", "RejectMessagesFromDLMembers", "RejectMessagesFromSendersOrMembers", "RulesQuota"},
	"Hold":           {"ComplianceTagHoldApplied", "DelayHoldApplied", "ExternalDirectoryObjectId", "InPlaceHolds", "InactiveMailboxRetireTime", "LitigationHoldDate", "LitigationHoldDuration", "LitigationHoldEnabled", "LitigationHoldOwner"},
	"Moderation":     {"BypassModerationFromSendersOrMembers", "ExternalDirectoryObjectId", "ModeratedBy", "ModerationEnabled", "SendModerationNotifications"},
	"Move":           {"ExternalDirectoryObjectId", "MailboxMoveBatchName", "MailboxMoveFlags", "MailboxMoveRemoteHostName", "MailboxMoveSourceMDB", "MailboxMoveStatus", "MailboxMoveTargetMDB"},
	"Policy":         {"AddressBookPolicy", "DataEncryptionPolicy", "EmailAddressPolicyEnabled", "ExternalDirectoryObjectId", "ManagedFolderMailboxPolicy", "PoliciesExcluded", "PoliciesIncluded", "RemoteAccountPolicy", "RetentionPolicy", "RetentionUrl", "RoleAssignmentPolicy", "SharingPolicy", "ThrottlingPolicy"},
	"PublicFolder":   {"DefaultPublicFolderMailbox", "EffectivePublicFolderMailbox", "ExternalDirectoryObjectId", "IsExcludedFromServingHierarchy", "IsHierarchyReady", "IsHierarchySyncEnabled", "IsRootPublicFolderMailbox"},
	"Quota":          {"ArchiveQuota", "ArchiveWarningQuota", "CalendarLoggingQuota", "ExternalDirectoryObjectId", "IssueWarningQuota", "ProhibitSendQuota", "ProhibitSendReceiveQuota", "RecoverableItemsQuota", "RecoverableItemsWarningQuota", "RulesQuota", "UseDatabaseQuotaDefaults"},
	"Resource":       {"ExternalDirectoryObjectId", "IsResource", "ResourceCapacity", "ResourceCustom", "ResourceType", "RoomMailboxAccountEnabled"},
	"Retention":      {"EndDateForRetentionHold", "ExternalDirectoryObjectId", "OrphanSoftDeleteTrackingTime", "RetainDeletedItemsFor", "RetainDeletedItemsUntilBackup", "RetentionComment", "RetentionHoldEnabled", "RetentionPolicy", "RetentionUrl", "SingleItemRecoveryEnabled", "StartDateForRetentionHold", "UseDatabaseRetentionDefaults"},
	"SCL":            {"AntispamBypassEnabled", "ExternalDirectoryObjectId", "SCLDeleteEnabled", "SCLDeleteThreshold", "SCLJunkEnabled", "SCLJunkThreshold", "SCLQuarantineEnabled", "SCLQuarantineThreshold", "SCLRejectEnabled", "SCLRejectThreshold"},
	"SoftDelete":     {"ExternalDirectoryObjectId", "IncludeInGarbageCollection", "IsInactiveMailbox", "IsSoftDeletedByDisable", "IsSoftDeletedByRemove", "WhenSoftDeleted"},
	"StatisticsSeed": {"ArchiveDatabaseGuid", "DatabaseGuid", "ExchangeGuid", "ExternalDirectoryObjectId"},
}

var casSets = map[string][]string{
	"Minimum":          {"ActiveSyncEnabled", "DisplayName", "ECPEnabled", "EmailAddresses", "EwsEnabled", "ExchangeVersion", "Guid", "Identity", "ImapEnabled", "MAPIEnabled", "Name", "OWAEnabled", "OrganizationId", "PopEnabled", "PrimarySmtpAddress", "ServerLegacyDN"},
	"ActiveSync":       {"ActiveSyncAllowedDeviceIDs", "ActiveSyncBlockedDeviceIDs", "ActiveSyncEnabled", "ActiveSyncMailboxPolicy", "ActiveSyncMailboxPolicyIsDefaulted", "ActiveSyncSuppressReadReceipt", "ExternalDirectoryObjectId", "Guid", "HasActiveSyncDevicePartnership", "Identity", "Name", "OrganizationId"},
	"Ews":              {"EwsAllowMacOutlook", "EwsAllowOutlook", "EwsEnabled", "ExternalDirectoryObjectId", "Guid", "Identity", "Name", "OrganizationId"},
	"Imap":             {"ExternalDirectoryObjectId", "Guid", "Identity", "ImapEnableExactRFC822Size", "ImapEnabled", "ImapForceICalForCalendarRetrievalOption", "ImapMessagesRetrievalMimeFormat", "ImapSuppressReadReceipt", "ImapUseProtocolDefaults", "Name", "OrganizationId"},
	"Mapi":             {"ExternalDirectoryObjectId", "Guid", "Identity", "MAPIBlockOutlookExternalConnectivity", "MAPIBlockOutlookNonCachedMode", "MAPIBlockOutlookRpcHttp", "MAPIBlockOutlookVersions", "MAPIEnabled", "MapiHttpEnabled", "Name", "OrganizationId"},
	"Pop":              {"ExternalDirectoryObjectId", "Guid", "Identity", "Name", "OrganizationId", "PopEnableExactRFC822Size", "PopEnabled", "PopMessagesRetrievalMimeFormat", "PopSuppressReadReceipt", "PopUseProtocolDefaults"},
	"ProtocolSettings": {"ExternalDirectoryObjectId", "ExternalImapSettings", "ExternalPopSettings", "ExternalSmtpSettings", "Guid", "Identity", "InternalImapSettings", "InternalPopSettings", "InternalSmtpSettings", "Name", "OrganizationId"},
}

var statisticsSets = map[string][]string{
	"Minimum": {"DeletedItemCount", "DisplayName", "ItemCount", "MailboxGuid", "TotalDeletedItemSize", "TotalItemSize"},
}

var recipientSets = map[string][]string{
	"Minimum":     {"ExchangeVersion", "ExternalDirectoryObjectId", "Name", "OrganizationId", "RecipientType", "RecipientTypeDetails"},
	"Archive":     {"ArchiveDatabase", "ArchiveGuid", "ArchiveRelease", "ArchiveState", "ArchiveStatus"},
	"Custom":      {"CustomAttribute1", "CustomAttribute2", "CustomAttribute3", "CustomAttribute4", "CustomAttribute5", "CustomAttribute6", "CustomAttribute7", "CustomAttribute8", "CustomAttribute9", "CustomAttribute10", "CustomAttribute11", "CustomAttribute12", "CustomAttribute13", "CustomAttribute14", "CustomAttribute15", "ExtensionCustomAttribute1", "ExtensionCustomAttribute2", "ExtensionCustomAttribute3", "ExtensionCustomAttribute4", "ExtensionCustomAttribute5"},
	"MailboxMove": {"MailboxMoveBatchName", "MailboxMoveFlags", "MailboxMoveRemoteHostName", "MailboxMoveSourceMDB", "MailboxMoveStatus", "MailboxMoveTargetMDB"},
	"Policy":      {"ActiveSyncMailboxPolicy", "ActiveSyncMailboxPolicyIsDefaulted", "AddressBookPolicy", "EmailAddressPolicyEnabled", "ManagedFolderMailboxPolicy", "OwaMailboxPolicy", "PoliciesExcluded", "PoliciesIncluded", "RetentionPolicy", "SharingPolicy", "ShouldUseDefaultRetentionPolicy", "UMMailboxPolicy"},
}
