package pageaudit

// MediaType is the media type of a Report's JSON.
const MediaType = "application/vnd.cvmtrust.page-audit.v1+json"

// Outcome is what the audit makes of one item.
type Outcome string

const (
	Pass    Outcome = "pass"
	Fail    Outcome = "fail"
	Allowed Outcome = "allowed" // it would fail, but the policy allows its hash
	Note    Outcome = "note"    // said for the auditor; it does not decide
)

// Check names what a finding is about.
type Check string

const (
	CheckWidget         Check = "widget"          // the page loads the build's widget, pinned, and shows the element
	CheckImportMap      Check = "import-map"      // where the import map sends the widget's modules
	CheckScript         Check = "script"          // scripts and modules besides the widget's
	CheckEventHandler   Check = "event-handler"   // on* attributes
	CheckJavaScriptURL  Check = "javascript-url"  // javascript: URLs
	CheckNestedDocument Check = "nested-document" // iframe, frame, object, embed
	CheckNavigation     Check = "navigation"      // meta refresh, <base>, the Refresh header
	CheckElement        Check = "element"         // what the element is told
	CheckStyle          Check = "style"           // page CSS that can reach the element
	CheckOrigin         Check = "origin"          // whether the page came from the attested machine
)

// Finding is one thing the audit found, and what it makes of it.
type Finding struct {
	Check   Check   `json:"check"`
	Outcome Outcome `json:"outcome"`
	What    string  `json:"what"`            // what it is, in a line
	Where   string  `json:"where,omitempty"` // its URL, or a preview of its code
	// Hash is the SHA-384 of code the policy could allow by hash.
	Hash string `json:"hash,omitempty"`
	Why  string `json:"why"` // why it matters, in a sentence or two
}

// FileReport is one file of the widget that the page loads.
type FileReport struct {
	Name     string `json:"name"`     // its path in the build
	URL      string `json:"url"`      // where the page loads it from
	LoadedAs string `json:"loadedAs"` // module, classic or fetched
	OK       bool   `json:"ok"`
	Content  string `json:"content"` // matches build.json, or how it differs
	Pinning  string `json:"pinning"` // what pins it, or why nothing does
}

// ElementReport is what one <cvm-attest> element is told.
type ElementReport struct {
	Attributes []AttributeReport `json:"attributes"`
}

// Report is the result of an audit. Passed is true if and only if every
// widget file matches the build and is pinned, and no finding and no
// attribute fails.
type Report struct {
	MediaType string `json:"mediaType"`
	Page      string `json:"page"`
	Passed    bool   `json:"passed"`
	// FromAttestedMachine is true if and only if the page came over TLS
	// whose key is bound in the verified attestation of every gateway its
	// elements name (the origin findings say why not).
	FromAttestedMachine bool `json:"fromAttestedMachine"`
	// TLSKeySHA256 is the hex SHA-256 of the SubjectPublicKeyInfo of the
	// leaf certificate on the connection that served the page; "" over
	// plain HTTP.
	TLSKeySHA256 string          `json:"tlsKeySha256,omitempty"`
	WidgetRoot   string          `json:"widgetRoot,omitempty"`
	WidgetFiles  []FileReport    `json:"widgetFiles"`
	Elements     []ElementReport `json:"elements"`
	Findings     []Finding       `json:"findings"`
}

func (r *Report) decide() {
	r.Passed = true
	for _, f := range r.WidgetFiles {
		r.Passed = r.Passed && f.OK
	}
	for _, e := range r.Elements {
		for _, a := range e.Attributes {
			r.Passed = r.Passed && a.Outcome != Fail
		}
	}
	origins := 0
	r.FromAttestedMachine = true
	for _, f := range r.Findings {
		r.Passed = r.Passed && f.Outcome != Fail
		if f.Check == CheckOrigin {
			origins++
			r.FromAttestedMachine = r.FromAttestedMachine && f.Outcome == Pass
		}
	}
	r.FromAttestedMachine = r.FromAttestedMachine && origins > 0
}
