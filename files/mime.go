package files

import (
	"mime"
	"path"
	"strings"
)

// builtinTypes is consulted before mime.TypeByExtension, so that the usual
// web types do not depend on the machine's /etc/mime.types (which may
// say application/javascript, or lack .webp or .woff2). Text types carry
// a charset, as Starlette adds one to every text/* type.
var builtinTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".htm":         "text/html; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".txt":         "text/plain; charset=utf-8",
	".md":          "text/markdown; charset=utf-8",
	".csv":         "text/csv; charset=utf-8",
	".xml":         "application/xml",
	".json":        "application/json",
	".map":         "application/json",
	".jsonld":      "application/ld+json",
	".webmanifest": "application/manifest+json",
	".wasm":        "application/wasm",
	".pdf":         "application/pdf",
	".zip":         "application/zip",
	".gz":          "application/gzip",
	".tar":         "application/x-tar",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".apng":        "image/apng",
	".jpg":         "image/jpeg",
	".jpeg":        "image/jpeg",
	".gif":         "image/gif",
	".webp":        "image/webp",
	".avif":        "image/avif",
	".ico":         "image/x-icon",
	".bmp":         "image/bmp",
	".woff":        "font/woff",
	".woff2":       "font/woff2",
	".ttf":         "font/ttf",
	".otf":         "font/otf",
	".mp4":         "video/mp4",
	".webm":        "video/webm",
	".mp3":         "audio/mpeg",
	".ogg":         "audio/ogg",
	".wav":         "audio/wav",
	".yaml":        "application/yaml",
	".yml":         "application/yaml",
}

// DefaultType is the type of a file whose extension is not known: bytes,
// which a browser downloads rather than sniffs. (Starlette says
// text/plain; nginx's default_type is this one.)
const DefaultType = "application/octet-stream"

// TypeByName returns the content type for a file name by its extension:
// the built-in table, then mime.TypeByExtension (text types get
// "; charset=utf-8" when they name no charset), then DefaultType.
func TypeByName(name string) string {
	ext := path.Ext(name)
	if ext == "" {
		return DefaultType
	}
	if t, ok := builtinTypes[ext]; ok {
		return t
	}
	lower := strings.ToLower(ext)
	if t, ok := builtinTypes[lower]; ok {
		return t
	}
	t := mime.TypeByExtension(lower)
	if t == "" {
		return DefaultType
	}
	if strings.HasPrefix(t, "text/") && !strings.Contains(t, "charset") {
		t += "; charset=utf-8"
	}
	return t
}
