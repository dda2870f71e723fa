package gopdf

import (
	"fmt"
	"io"
	"strconv"
)

// PagesObj pdf pages object
type PagesObj struct { //impl IObj
	PageCount int
	Kids      string
	getRoot   func() *GoPdf
}

func (p *PagesObj) init(funcGetRoot func() *GoPdf) {
	p.PageCount = 0
	p.getRoot = funcGetRoot
}

func (p *PagesObj) write(w io.Writer, objID int) error {

	rootConfig := p.getRoot().config
	b := objectText(w)
	b = append(b, "<<\n  /Type /"...)
	b = append(b, p.getType()...)
	b = append(b, "\n  /MediaBox [ 0 0 "...)
	b = appendExact2s(b, rootConfig.PageSize.W, rootConfig.PageSize.H)
	b = append(b, "]\n  /Count "...)
	b = strconv.AppendInt(b, int64(p.PageCount), 10)
	b = append(b, "\n  /Kids [ "...)
	b = append(b, p.Kids...) //sample Kids [ 3 0 R ]
	b = append(b, " ]\n>>\n"...)
	_, err := w.Write(b)
	return err
}

func (p *PagesObj) getType() string {
	return "Pages"
}

func (p *PagesObj) test() {
	fmt.Print(p.getType() + "\n")
}
