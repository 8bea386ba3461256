// The Go demo app: net/http on :8000; GET / answers with the line of Go that
// prints hello world, as the classic Docker + HAProxy demo does.
package main

import (
	"fmt"
	"net/http"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, `fmt.Println("Hello world!")`)
	})
	if err := http.ListenAndServe(":8000", nil); err != nil {
		panic(err)
	}
}
