package validate

import "fmt"

// errorf formats an error whose message starts with "databridge: ", as every
// error this package returns does.
func errorf(format string, args ...any) error {
	return fmt.Errorf("databridge: "+format, args...)
}
