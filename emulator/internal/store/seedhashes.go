package store

// seededHashes are the seeded users' password hashes, made once with hashPassword and kept
// here: the passwords are fixed and published in emulator.json, and a new data folder's seed
// would otherwise spend most of its time (a deliberately slow PBKDF2 per user) making them
// again. Sign-in checks them as any other hash. TestSeededHashes fails, printing the entries to
// paste, when a seeded password changes.
var seededHashes = []struct{ password, hash string }{
	{"Exo-Admin!2468Contoso", "pbkdf2-sha256$20000$Vc5JY0PpOTZ2CTk54xLSbQ$q77/KWOeHWJyYNrByhVQ/Wmn1eSCxNmOsmePL5orsDc"},
	{"Global-Admin!1357Contoso", "pbkdf2-sha256$20000$yWocurMTirieMeOqXX+j7g$EJQt6jvsstcElWycBQ7OYBRi77heDMMtRYgxQPZbh6A"},
	{"Adele-Mfa!8642Contoso", "pbkdf2-sha256$20000$61BVO7Ovz8olkzrySLNYag$i3f92+VeNfDXi6rIZf4jQPw+wRGvMpjYGWCRpfdZHMM"},
	{"Alex-Disabled!9753Contoso", "pbkdf2-sha256$20000$Y4TtTUN4XqTlYZNBw0RC5A$+QRg/tOuWa53gisD/pwhnZ9aPyaTXijuAT1LNtlr23M"},
	{"Lee-NoShell!3141Contoso", "pbkdf2-sha256$20000$KCqRCgXauurMRhTZ2ZxoGA$z8PV8wFpCoXpriyUI7MQQVgpuspmYfdMeG0el3m1gqg"},
	{"Megan-Reader!2718Contoso", "pbkdf2-sha256$20000$2eIcsnKUEDNxXeixhDOlvw$SsEKyfDusPrh4WyE/geecuDcAFq3s2xCYSO2t7Yc7ro"},
	{"Diego-User!1618Contoso", "pbkdf2-sha256$20000$D0SyXm5jcpxgpxhs49Qqqg$QQgaqfS0oxLpvmEJ+f+jTk9Uht61KhQQpnb1xyKs+Nc"},
	{"Northwind-Admin!4826", "pbkdf2-sha256$20000$jcTbAbRxS2bqhWcatCndDw$tit30VGwibWjM0oQ+5sM7HpgwSYwudQSLc7XH35Hzl4"},
	{"Dana-Agent!7391Northwind", "pbkdf2-sha256$20000$IolZw8U2tdC83gFK2alsLg$LfMwTSJABp7bVI7xXMuoEucTfq9i5o2nrRe+70e0O2Y"},
	{"Priya-Ops!5172Northwind", "pbkdf2-sha256$20000$mBxHfRUtMtL7OtSHUAO7hg$muaVGlUq5Q+/2GrLA/y/fz6PxSanO0uJYxw5kmA9Jio"},
	{"Rob-Helpdesk!8264Northwind", "pbkdf2-sha256$20000$h94nVr9CjLC124SEXUWO9w$uPS0mJonStwL9OpYuci28V2vCC+tm3NCW69A28gbZtk"},
	{"Sam-Guest!3917Northwind", "pbkdf2-sha256$20000$I8luMjH493kRSNRdFU48Qw$xBNwewWZxCK2vih70gKHTZKnnNkAlgwbTkA9K6Uup7c"},
	{"Wingtip-Admin!6158", "pbkdf2-sha256$20000$UXXBSVta0f0tYTWJzEsH0A$uHYEvflqdmTnntBe2CYhqvSqjbXrrys8yJpDFgpLGxw"},
	{"Adatum-Admin!2937", "pbkdf2-sha256$20000$t9RKGpHLsm5SXf3v+eRfUg$h22PsSGdj3K3gLwV2iomEZRx393HYUphTuw3pXjOUi0"},
}

// seededHash returns a seeded password's kept hash, or a new one for another password.
func seededHash(password string) (string, error) {
	for _, h := range seededHashes {
		if h.password == password {
			return h.hash, nil
		}
	}
	return hashPassword(password)
}
