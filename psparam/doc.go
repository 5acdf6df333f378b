// Package psparam reads a cmdlet invocation written with PowerShell's parameter syntax, from a
// raw line (ParseLine) or from argv after a POSIX shell (ParseArgs), and encodes its parameters
// as the Exchange Online InvokeCommand "Parameters" object, the way the ExchangeOnlineManagement
// module does. It depends on the standard library only.
//
// # Supported (PowerShell argument mode)
//
//   - -Name value, -Name:value, -Name: value; a parameter followed by another parameter or by
//     nothing is a switch (true); -Confirm:$false is false. Confirm, WhatIf, Force, Verbose and
//     Debug are always switches and never take the next token. Typographic dashes (–, —) work.
//   - One unnamed value binds to -Identity (Get-Mailbox alice); -- ends the parameters, so later
//     tokens are values even if they start with a dash.
//   - $true, $false, $null (any case). Numbers as PowerShell reads them: 42, -5, 1.5, .5, 1e3,
//     0x1F, 0b101, the suffixes l and d, and the multipliers KB MB GB TB PB (49GB is
//     52613349376). Integers are int64, reals float64; hex and binary of up to 32 bits are an
//     Int32 (0xFFFFFFFF is -1). Any other bare word (contoso.com, Unlimited, 10.0.0.1) is text.
//   - 'single' (two quotes inside make one) and "double" strings with backtick escapes (`n `t `0 `a `b `e `f
//     `r `v `u{2713}, ` followed by anything else is that character) and "" for a quote;
//     typographic quotes; here-strings @'...'@ and @"..."@; quoted parts inside a bare word
//     (a'b c'd is "ab cd").
//   - Arrays a,b,"c d", ,a (an array of one), @('a','b'), @(), nested, split by commas, ';' or
//     line breaks inside @( ) and unrolled as PowerShell unrolls them; hashtables
//     @{Add='x'; Remove="y","z"} with ';' or line breaks, bare or quoted keys, keys unique in any
//     case, [ordered]@{...}; bare words inside @( ) and @{ } are text.
//   - Script blocks { RecipientTypeDetails -eq 'SharedMailbox' }, sent as their trimmed text.
//   - In raw lines: # comments, <# block comments #>, a trailing backtick to continue the line,
//     and a final ';'.
//
// # Refused, with an error showing the line, a caret and what to write instead
//
// Variables ($x, also inside double quotes), sub-expressions $( ), parenthesized expressions,
// casts ([int]), splatting (@params), pipelines (|), & and redirection, --% and GNU-style
// --name, more than one cmdlet per line, a second unnamed value, a repeated parameter, a quoted
// string glued to more text ('a'b, which PowerShell would read as two values), and values nested
// more than 64 deep.
//
// # Limits
//
// psparam knows no cmdlet's parameters unless told: with the Switches option (from the
// connection's module file) a switch followed by a value leaves the value unnamed, as in
// PowerShell. Without it, it cannot tell a switch from a parameter that needs a value: a
// parameter followed by a value takes it. Put an unnamed Identity first (Get-Mailbox alice
// -Archive) or write switches as -Archive:$true. Dates are sent
// as the text typed; the service parses them. Integers beyond int64 become float64.
//
// A *SyntaxError with Incomplete set means more lines could complete the input (an open quote
// or bracket, a trailing comma or backtick): a shell can read another line and try again.
// Command.String renders a command back as a line that ParseLine reads to the same command.
//
// # argv
//
// ParseArgs reads each element as one token. An element that starts like a PowerShell value
// (a quote, @, {, $, (, [ or a comma) is read as PowerShell reads it; any other element is
// text, or a number, split into an array at commas, with no further quoting: after a POSIX shell
// removed its own quotes, `-Identity "o'brien"` is the text o'brien. For a comma, or a leading $,
// inside text, quote it for PowerShell too: "'a,b'".
package psparam
