package trafgen

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Snaplen is the snapshot length written in pcap file headers.
const Snaplen = 65535

// pcapEpoch is the timestamp of the first packet of every file: files are
// byte-for-byte reproducible.
var pcapEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// PcapWriter writes Ethernet frames to a pcap stream (microsecond format),
// one microsecond apart.
type PcapWriter struct {
	w *pcapgo.Writer
	n int64
}

// NewPcapWriter writes the file header.
func NewPcapWriter(w io.Writer) (*PcapWriter, error) {
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(Snaplen, layers.LinkTypeEthernet); err != nil {
		return nil, err
	}
	return &PcapWriter{w: pw}, nil
}

// Write appends one frame.
func (w *PcapWriter) Write(frame []byte) error {
	ci := gopacket.CaptureInfo{
		Timestamp:     pcapEpoch.Add(time.Duration(w.n) * time.Microsecond),
		CaptureLength: len(frame), Length: len(frame),
	}
	w.n++
	return w.w.WritePacket(ci, frame)
}

// WritePcap writes frames to a new pcap file at path.
func WritePcap(path string, frames [][]byte) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<16)
	pw, err := NewPcapWriter(bw)
	if err != nil {
		return err
	}
	for _, fr := range frames {
		if err := pw.Write(fr); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ErrTruncated reports a pcap file that ends in the middle of a record (a
// writer still at work); ReadPcap returns the complete records with it.
var ErrTruncated = errors.New("trafgen: pcap file ends inside a record")

// ReadPcap reads every frame of a pcap file (micro- or nanosecond format,
// Ethernet link type).
func ReadPcap(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := pcapgo.NewReader(bufio.NewReaderSize(f, 1<<16))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if lt := r.LinkType(); lt != layers.LinkTypeEthernet {
		return nil, fmt.Errorf("%s: link type %v, want Ethernet", path, lt)
	}
	var frames [][]byte
	for {
		data, _, err := r.ReadPacketData()
		if err == io.EOF {
			return frames, nil
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return frames, fmt.Errorf("%s: %w", path, ErrTruncated)
		}
		if err != nil {
			return frames, fmt.Errorf("%s: %w", path, err)
		}
		frames = append(frames, data)
	}
}
