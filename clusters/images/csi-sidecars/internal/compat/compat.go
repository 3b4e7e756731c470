// Package compat holds what both sidecars share with their upstream namesakes: the logging
// flags manifests pass (klog's -v and friends) and the flags upstream deprecated but still
// accepts. They are accepted so a vendor's manifest runs unchanged; only -v changes anything.
package compat

import (
	"flag"
	"fmt"
	"log"
	"os"
)

// Verbosity is the -v level: Logf(level, ...) prints when level <= Verbosity.
var Verbosity int

// Logf logs at a klog-style verbosity level.
func Logf(level int, format string, args ...any) {
	if level <= Verbosity {
		log.Printf(format, args...)
	}
}

// Fatalf logs and exits 1, like klog.Fatalf in the upstream sidecars.
func Fatalf(format string, args ...any) {
	log.Printf(format, args...)
	os.Exit(1)
}

type ignored struct {
	name, why string
	set       bool
}

var ignoredFlags []*ignored

// RegisterLogFlags adds the klog / component-base logging flags vendor manifests use.
func RegisterLogFlags(fs *flag.FlagSet) {
	fs.IntVar(&Verbosity, "v", 0, "log verbosity (klog -v)")
	ignore(fs, "vmodule", "", "accepted for compatibility; per-file verbosity is not supported")
	ignoreBool(fs, "logtostderr", "accepted for compatibility; logs always go to stderr")
	ignoreBool(fs, "alsologtostderr", "accepted for compatibility; logs always go to stderr")
	ignore(fs, "stderrthreshold", "", "accepted for compatibility; logs always go to stderr")
	ignore(fs, "logging-format", "text", "accepted for compatibility; logs are text")
	ignore(fs, "log-flush-frequency", "5s", "accepted for compatibility; logs are not buffered")
}

// Deprecated registers a flag upstream still accepts but ignores.
func Deprecated(fs *flag.FlagSet, name, def string) {
	ignore(fs, name, def, "deprecated upstream and ignored")
}

// WarnIgnored says which of the accepted-but-ignored flags a manifest set. Call after Parse.
func WarnIgnored() {
	for _, f := range ignoredFlags {
		if f.set {
			Logf(1, "--%s is %s", f.name, f.why)
		}
	}
}

func ignore(fs *flag.FlagSet, name, def, why string) {
	f := &ignored{name: name, why: why}
	ignoredFlags = append(ignoredFlags, f)
	fs.Func(name, fmt.Sprintf("%s (default %q)", why, def), func(string) error {
		f.set = true
		return nil
	})
}

func ignoreBool(fs *flag.FlagSet, name, why string) {
	f := &ignored{name: name, why: why}
	ignoredFlags = append(ignoredFlags, f)
	fs.BoolFunc(name, why, func(string) error {
		f.set = true
		return nil
	})
}
