package gopdf

import (
	"fmt"
	"io"
	"strings"
)

// PageObj pdf page object
type PageObj struct { //impl IObj
	Contents        string
	ResourcesRelate string
	pageOption      PageOption
	LinkObjIds      []int
	getRoot         func() *GoPdf
}

func (p *PageObj) init(funcGetRoot func() *GoPdf) {
	p.getRoot = funcGetRoot
	p.LinkObjIds = make([]int, 0)
}

func (p *PageObj) setOption(opt PageOption) {
	p.pageOption = opt
}

func (p *PageObj) write(w io.Writer, objID int) error {
	b := objectText(w)
	b = append(b, "<<\n  /Type /"...)
	b = append(b, p.getType()...)
	b = append(b, "\n  /Parent 2 0 R\n  /Resources "...)
	b = append(b, p.ResourcesRelate...)
	b = append(b, '\n')
	if len(p.LinkObjIds) > 0 {
		b = append(b, "  /Annots ["...)
		for _, l := range p.LinkObjIds {
			b = append(appendRef(b, l), ' ')
		}
		b = append(b, "]\n"...)
	}

	/*me.buffer.WriteString("    /Font <<\n")
	i := 0
	max := len(me.Realtes)
	for i < max {
		realte := me.Realtes[i]
		me.buffer.WriteString(fmt.Sprintf("      /F%d %d 0 R\n",realte.CountOfFont + 1, realte.IndexOfObj + 1))
		i++
	}
	me.buffer.WriteString("    >>\n")*/
	//me.buffer.WriteString("  >>\n")
	b = append(b, "  /Contents "...)
	b = append(b, p.Contents...) //sample  Contents 8 0 R
	b = append(b, '\n')
	if !p.pageOption.isEmpty() {
		b = append(b, " /MediaBox [ 0 0 "...)
		b = appendExact2s(b, p.pageOption.PageSize.W, p.pageOption.PageSize.H)
		b = append(b, "]\n"...)
	}
	if p.pageOption.isTrimBoxSet() {
		trimBox := p.pageOption.TrimBox
		b = append(b, " /TrimBox [ "...)
		b = appendExact2s(b, trimBox.Left, trimBox.Top, trimBox.Right, trimBox.Bottom)
		b = append(b, "]\n"...)
	}
	b = append(b, ">>\n"...)
	_, err := w.Write(b)
	return err
}

func (p *PageObj) writeExternalLink(w io.Writer, l linkOption, objID int) error {
	protection := p.getRoot().protection()
	url := l.url
	if protection != nil {
		tmp, err := rc4Cip(protection.objectkey(objID), []byte(url))
		if err != nil {
			return err
		}
		url = string(tmp)
	}
	url = strings.Replace(url, "\\", "\\\\", -1)
	url = strings.Replace(url, "(", "\\(", -1)
	url = strings.Replace(url, ")", "\\)", -1)
	url = strings.Replace(url, "\r", "\\r", -1)

	_, err := fmt.Fprintf(w, "<</Type /Annot /Subtype /Link /Rect [%.2f %.2f %.2f %.2f] /Border [0 0 0] /A <</S /URI /URI (%s)>>>>",
		l.x, l.y, l.x+l.w, l.y-l.h, url)
	return err
}

func (p *PageObj) writeInternalLink(w io.Writer, l linkOption, anchors map[string]anchorOption) error {
	a, ok := anchors[l.anchor]
	if !ok {
		return nil
	}
	_, err := fmt.Fprintf(w, "<</Type /Annot /Subtype /Link /Rect [%.2f %.2f %.2f %.2f] /Border [0 0 0] /Dest [%d 0 R /XYZ 0 %.2f null]>>",
		l.x, l.y, l.x+l.w, l.y-l.h, a.page+1, a.y)
	return err
}

func (p *PageObj) getType() string {
	return "Page"
}
