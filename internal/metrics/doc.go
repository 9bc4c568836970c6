// Package metrics is Skald's operator metrics registry: counters and
// gauges, written in the Prometheus text exposition format 0.0.4 and
// served over HTTP (config metrics_address).
//
// It has no dependencies: the text format is small enough to write here.
// Each package defines its metrics next to the code it measures and
// implements Source; internal/server registers the sources in one ordered
// list. Nothing registers itself: no init(), no globals.
//
// Layering: metrics imports nothing of Skald and sits in the bottom layer,
// so every package may import it.
package metrics
