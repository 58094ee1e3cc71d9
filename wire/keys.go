package wire

// Key indexes Keys: strings that C interns once at module init, so a
// request dict's fixed keys cost one byte on the wire and no allocation in
// Python.
type Key uint8

const (
	KeyMethod Key = iota
	KeyPath
	KeyURL
	KeyHeaders
	KeyQueryParams
	KeyPathParams
	KeyBody
	KeyFormData
	KeyRawBody
	KeyClient
	KeyFields
	KeyFiles
	KeyName
	KeyFilename
	KeyContentType
	KeySize
	KeyContent
	KeyGET
	KeyPOST
	KeyPUT
	KeyPATCH
	KeyDELETE
	KeyHEAD
	KeyOPTIONS
	KeyCookies
	KeyStream
	keyCount
)

// Keys holds the text of every Key, in Key order.
var Keys = [keyCount]string{
	KeyMethod:      "method",
	KeyPath:        "path",
	KeyURL:         "url",
	KeyHeaders:     "headers",
	KeyQueryParams: "query_params",
	KeyPathParams:  "path_params",
	KeyBody:        "body",
	KeyFormData:    "form_data",
	KeyRawBody:     "raw_body",
	KeyClient:      "client",
	KeyFields:      "fields",
	KeyFiles:       "files",
	KeyName:        "name",
	KeyFilename:    "filename",
	KeyContentType: "content_type",
	KeySize:        "size",
	KeyContent:     "content",
	KeyGET:         "GET",
	KeyPOST:        "POST",
	KeyPUT:         "PUT",
	KeyPATCH:       "PATCH",
	KeyDELETE:      "DELETE",
	KeyHEAD:        "HEAD",
	KeyOPTIONS:     "OPTIONS",
	KeyCookies:     "cookies",
	KeyStream:      "_stream",
}

// MethodKey returns the interned key for a standard method, if it has one.
func MethodKey(method string) (Key, bool) {
	switch method {
	case "GET":
		return KeyGET, true
	case "POST":
		return KeyPOST, true
	case "PUT":
		return KeyPUT, true
	case "PATCH":
		return KeyPATCH, true
	case "DELETE":
		return KeyDELETE, true
	case "HEAD":
		return KeyHEAD, true
	case "OPTIONS":
		return KeyOPTIONS, true
	}
	return 0, false
}
