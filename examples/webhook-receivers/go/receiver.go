// A Portal webhook receiver using only Go's standard library.
//
//	WEBHOOK_SECRET=whsec_... PORT=8080 go run receiver.go
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	tolerance     = 5 * time.Minute
	maxBodyBytes  = 1 << 20
	rememberedIDs = 100000
)

type rejected struct {
	status int
	reason string
}

func verify(key []byte, h http.Header, body []byte) *rejected {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return &rejected{http.StatusBadRequest, "missing webhook-id, webhook-timestamp or webhook-signature"}
	}
	sentAt, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return &rejected{http.StatusBadRequest, "webhook-timestamp is not a number"}
	}
	// A tight window makes a captured delivery useless for replay soon after.
	if math.Abs(float64(time.Now().Unix()-sentAt)) > tolerance.Seconds() {
		return &rejected{http.StatusUnauthorized, "timestamp too far from now"}
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	expected := mac.Sum(nil)
	for _, entry := range strings.Split(sigs, " ") {
		version, value, found := strings.Cut(entry, ",")
		if !found || version != "v1" {
			continue
		}
		candidate, err := base64.StdEncoding.DecodeString(value)
		if err != nil {
			continue
		}
		if hmac.Equal(candidate, expected) {
			return nil
		}
	}
	return &rejected{http.StatusUnauthorized, "no valid signature"}
}

type receiver struct {
	key []byte
	// Deliveries are at least once: the same webhook-id may arrive again and must not be processed twice.
	// Production code keeps these ids in its database for longer than the sender retries (3 days).
	mu    sync.Mutex
	seen  map[string]bool
	order []string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		http.Error(w, "body too large or unreadable", http.StatusBadRequest)
		return
	}
	if rej := verify(rc.key, r.Header, body); rej != nil {
		http.Error(w, rej.reason, rej.status)
		return
	}
	id := r.Header.Get("webhook-id")
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if !rc.seen[id] {
		var event struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(body, &event); err != nil {
			http.Error(w, "body is not JSON", http.StatusBadRequest)
			return
		}
		fmt.Printf("accepted %s %s\n", event.Type, id)
		rc.seen[id] = true
		rc.order = append(rc.order, id)
		if len(rc.order) > rememberedIDs {
			delete(rc.seen, rc.order[0])
			rc.order = rc.order[1:]
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func main() {
	secret := os.Getenv("WEBHOOK_SECRET")
	if !strings.HasPrefix(secret, "whsec_") {
		log.Fatal("set WEBHOOK_SECRET to the subscription's secret (whsec_...)")
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		log.Fatal("WEBHOOK_SECRET is not valid base64 after whsec_")
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	listener, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on %s\n", listener.Addr())
	server := &http.Server{Handler: &receiver{key: key, seen: map[string]bool{}}, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(server.Serve(listener))
}
