//go:build ignore

// Command gen draws the application icon (assets/icon.png, 512×512): an envelope on a
// blue rounded square with a green check mark, bold enough to read at 16 px.
// Run: go run assets/gen/main.go && cp assets/icon.png gui/icon.png
package main

import (
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
)

const size = 512

func main() {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	blue := color.NRGBA{0x1f, 0x6f, 0xd1, 0xff}
	white := color.NRGBA{0xff, 0xff, 0xff, 0xff}
	fold := color.NRGBA{0xc9, 0xdc, 0xf5, 0xff}
	green := color.NRGBA{0x1e, 0xa8, 0x52, 0xff}
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			if inRounded(x, y, 16, 16, size-16, size-16, 96) {
				img.Set(x, y, blue)
			}
		}
	}
	// Envelope body.
	x0, y0, x1, y1 := 88, 150, 424, 382
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			if inRounded(x, y, x0, y0, x1, y1, 18) {
				img.Set(x, y, white)
			}
		}
	}
	// Flap: two thick lines from the top corners to the middle.
	midX, midY := float64(x0+x1)/2, 280.0
	thickLine(img, float64(x0+10), float64(y0+10), midX, midY, 14, fold)
	thickLine(img, float64(x1-10), float64(y0+10), midX, midY, 14, fold)
	// Check badge.
	cx, cy, r := 376.0, 372.0, 96.0
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			d := math.Hypot(float64(x)-cx, float64(y)-cy)
			if d <= r+10 && d > r {
				img.Set(x, y, blue)
			} else if d <= r {
				img.Set(x, y, green)
			}
		}
	}
	thickLine(img, cx-48, cy+2, cx-12, cy+38, 16, white)
	thickLine(img, cx-12, cy+38, cx+50, cy-36, 16, white)
	f, err := os.Create("assets/icon.png")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		log.Fatal(err)
	}
}

func inRounded(x, y, x0, y0, x1, y1, r int) bool {
	if x < x0 || x >= x1 || y < y0 || y >= y1 {
		return false
	}
	cx := clamp(x, x0+r, x1-r-1)
	cy := clamp(y, y0+r, y1-r-1)
	return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r
}

func clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

func thickLine(img *image.NRGBA, ax, ay, bx, by, w float64, c color.NRGBA) {
	minX, maxX := int(math.Min(ax, bx)-w), int(math.Max(ax, bx)+w)
	minY, maxY := int(math.Min(ay, by)-w), int(math.Max(ay, by)+w)
	dx, dy := bx-ax, by-ay
	l2 := dx*dx + dy*dy
	for y := minY; y <= maxY; y++ {
		for x := minX; x <= maxX; x++ {
			t := ((float64(x)-ax)*dx + (float64(y)-ay)*dy) / l2
			t = math.Max(0, math.Min(1, t))
			px, py := ax+t*dx, ay+t*dy
			if math.Hypot(float64(x)-px, float64(y)-py) <= w {
				img.Set(x, y, c)
			}
		}
	}
}
