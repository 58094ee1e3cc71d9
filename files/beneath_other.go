//go:build !linux

package files

import "syscall"

// Without openat2, a Dir opens through os.Root.

func openDirFD(string) (int, error) { return -1, syscall.ENOSYS }

func openBeneath(int, string) (int, error) { return -1, syscall.ENOSYS }

func fromFD(fd int, name string) (*file, info, error) {
	syscall.Close(fd)
	return nil, info{}, syscall.ENOSYS
}
