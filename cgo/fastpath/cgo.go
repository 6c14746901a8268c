package fastpath

/*
#cgo pkg-config: libdpdk
#cgo CFLAGS: -O3 -Wall -Wextra -Werror -Wno-unused-parameter
*/
import "C"
