// The Go demo app: net/http on :8000, GET / answers what fmt.Println("Hello world!") prints.
package main

import (
	"fmt"
	"net/http"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "Hello world!")
	})
	if err := http.ListenAndServe(":8000", nil); err != nil {
		panic(err)
	}
}
