package catalog

import (
	"strconv"
	"time"
)

// The Go values parameters bind to (see Bind):
//
//	string          strings, identity parameters (*IdParameter), enums (canonical spelling),
//	                SmtpAddress, ProxyAddress, Guid (lower case, hyphenated), and types the
//	                binder does not know
//	int64           Int16/Int32/Int64/UInt16/UInt32/UInt64/Byte
//	float64         Double
//	bool            SwitchParameter and Boolean
//	[]string        arrays (String[], RecipientIdParameter[], Word[], ...), and a
//	                MultiValuedProperty given as a list (it replaces the values)
//	MultiValuedEdit a MultiValuedProperty given as @{Add=...; Remove=...}
//	map[string]any  hashtables (@odata.type tags removed); []map[string]any for Hashtable[]
//	ResultSize      -ResultSize and other Unlimited counts
//	ByteSize        ByteQuantifiedSize and Unlimited[ByteQuantifiedSize]
//	time.Duration   TimeSpan and EnhancedTimeSpan; Duration for Unlimited[EnhancedTimeSpan]
//	time.Time       DateTime (UTC)
//	any             the decoded JSON value, for objects the binder cannot convert (PSCredential, Byte[], ...)
//	nil             an explicit null (PowerShell's $null: "clear this property")

// MultiValuedEdit is a bound @{Add=...; Remove=...} for a MultiValuedProperty parameter.
type MultiValuedEdit struct {
	Add, Remove []string
}

// ResultSize is a bound Unlimited count (-ResultSize): Unlimited or N.
type ResultSize struct {
	Unlimited bool
	N         int64
}

// MarshalJSON keeps hashes of bound parameters stable.
func (r ResultSize) MarshalJSON() ([]byte, error) {
	if r.Unlimited {
		return []byte(`"Unlimited"`), nil
	}
	return strconv.AppendInt(nil, r.N, 10), nil
}

// ByteSize is a bound ByteQuantifiedSize: a number of bytes, or Unlimited.
type ByteSize struct {
	Bytes     int64
	Unlimited bool
}

// MarshalJSON keeps hashes of bound parameters stable.
func (b ByteSize) MarshalJSON() ([]byte, error) {
	if b.Unlimited {
		return []byte(`"Unlimited"`), nil
	}
	return strconv.AppendInt(nil, b.Bytes, 10), nil
}

// Duration is a bound Unlimited[EnhancedTimeSpan]: a time span, or Unlimited.
type Duration struct {
	D         time.Duration
	Unlimited bool
}

// MarshalJSON keeps hashes of bound parameters stable.
func (d Duration) MarshalJSON() ([]byte, error) {
	if d.Unlimited {
		return []byte(`"Unlimited"`), nil
	}
	return strconv.AppendInt(nil, int64(d.D), 10), nil
}
