package gateway

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/cvmtrust/cvmtrust/protocol"
)

// Matcher protocol v1: how the gateway talks to a matcher that runs as its
// own (sandboxed) process, over the process's stdin and stdout. It is the
// contract a matcher vendor implements; gateway/README.md describes it.
//
// A frame is a 4-byte big-endian length and then that many bytes of JSON.
// The gateway sends MatcherRequest frames (at most MaxMatcherRequest bytes)
// and reads one MatcherResponse frame (at most MaxMatcherResponse bytes) per
// request, in order.
const (
	MatcherProtocolVersion = 1
	MaxMatcherRequest      = 16 << 20
	MaxMatcherResponse     = 4 << 10
)

// Statuses a matcher may answer. Nothing else is accepted.
const (
	MatcherEnrolled        = "enrolled"
	MatcherAlreadyEnrolled = "already_enrolled"
	MatcherBadImage        = "bad_image"
)

// MatcherRequest is the gateway → matcher frame. Image is the capture's
// image bytes, unchanged (base64 in JSON).
type MatcherRequest struct {
	Version     int    `json:"version"`
	ID          uint64 `json:"id"`
	ContentType string `json:"content_type"`
	Image       []byte `json:"image"`
}

// MatcherResponse is the matcher → gateway frame.
type MatcherResponse struct {
	Version int    `json:"version"`
	ID      uint64 `json:"id"`
	Status  string `json:"status"`
}

// ErrMatcherProtocol wraps every violation of matcher protocol v1.
var ErrMatcherProtocol = errors.New("matcher protocol violation")

// violation is one kind of protocol violation. Its text is fixed: it is all
// a real-mode log says, because the details come from the matcher.
type violation string

func (v violation) Error() string { return string(v) }
func (v violation) Unwrap() error { return ErrMatcherProtocol }

const (
	errOversized  violation = "oversized frame"
	errTruncated  violation = "truncated frame"
	errMalformed  violation = "malformed answer"
	errBadVersion violation = "wrong version"
	errWrongID    violation = "wrong id"
	errBadStatus  violation = "unknown status"
)

// writeFrame writes payload as one frame, without copying it.
func writeFrame(w io.Writer, payload []byte) error {
	if _, err := w.Write(binary.BigEndian.AppendUint32(nil, uint32(len(payload)))); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

// readFrame reads one frame of at most max bytes. It never reads past the
// frame, and never allocates more than max.
func readFrame(r io.Reader, max int) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > uint32(max) {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", errOversized, n, max)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("%w: %v", errTruncated, err)
	}
	return b, nil
}

// decodeStrict decodes exactly one JSON object with no unknown fields and
// nothing after it.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", errMalformed, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: data after the JSON object", errMalformed)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: data after the JSON object", errMalformed)
	}
	return nil
}

// parseMatcherResponse checks a response frame against the request id it
// must answer.
func parseMatcherResponse(b []byte, id uint64) (MatcherResponse, error) {
	var resp MatcherResponse
	if err := decodeStrict(b, &resp); err != nil {
		return resp, err
	}
	if resp.Version != MatcherProtocolVersion {
		return resp, fmt.Errorf("%w: %d", errBadVersion, resp.Version)
	}
	if resp.ID != id {
		return resp, fmt.Errorf("%w: answer for id %d, want %d", errWrongID, resp.ID, id)
	}
	switch resp.Status {
	case MatcherEnrolled, MatcherAlreadyEnrolled, MatcherBadImage:
		return resp, nil
	}
	return resp, fmt.Errorf("%w: %q", errBadStatus, resp.Status)
}

// ServeMatcher is the matcher's side of protocol v1 around a Matcher: it
// answers each request on r with a response on w until r ends (nil) or a
// request breaks the protocol (an error; the caller exits). It is what
// `cvmtrust matcher` runs, and a starting point for a vendor's program.
func ServeMatcher(r io.Reader, w io.Writer, m Matcher) error {
	for {
		b, err := readFrame(r, MaxMatcherRequest)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		var req MatcherRequest
		err = decodeStrict(b, &req)
		clear(b)
		if err != nil {
			return err
		}
		if req.Version != MatcherProtocolVersion {
			return fmt.Errorf("%w: %d", errBadVersion, req.Version)
		}
		already, err := m.Enroll(context.Background(), protocol.Capture{ContentType: req.ContentType, Image: req.Image})
		clear(req.Image)
		status := MatcherEnrolled
		switch {
		case errors.Is(err, ErrBadImage):
			status = MatcherBadImage
		case err != nil:
			return err
		case already:
			status = MatcherAlreadyEnrolled
		}
		out, _ := json.Marshal(MatcherResponse{Version: MatcherProtocolVersion, ID: req.ID, Status: status})
		if err := writeFrame(w, out); err != nil {
			return err
		}
	}
}
