"""Small PDFs made by the tests themselves: real files, no fixtures downloaded."""

from __future__ import annotations

from pathlib import Path


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(path: Path, pages: list[list[str]]) -> Path:
    """A valid PDF with one text line per list item, one list per page (Helvetica)."""
    objects: list[bytes] = []
    n_pages = len(pages)
    # 1: catalog, 2: pages, 3: font, then (page, content) pairs
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(n_pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, lines in enumerate(pages):
        ops = ["BT", "/F1 11 Tf", "14 TL", "72 720 Td"]
        for line in lines:
            ops.append(f"({_escape(line)}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path


def make_encrypted_pdf(path: Path, pages: list[list[str]], password: str = "secret", algorithm: str = "RC4-128") -> Path:
    from pypdf import PdfReader, PdfWriter

    plain = make_pdf(path.with_suffix(".plain.pdf"), pages)
    writer = PdfWriter(clone_from=PdfReader(str(plain)))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm=algorithm)
    with open(path, "wb") as fh:
        writer.write(fh)
    plain.unlink()
    return path


def make_blank_pdf(path: Path) -> Path:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    with open(path, "wb") as fh:
        writer.write(fh)
    return path


# ---------------------------------------------------------------- journal-like articles (reportlab)

SENTENCES = [
    "Osteonecrosis of the femoral head is a progressive disease that mostly affects adults between thirty and fifty years of age",
    "The blood supply to the bone is interrupted and the bone tissue dies, which can lead to collapse of the joint surface",
    "Risk factors include long courses of corticosteroids, heavy alcohol use, sickle cell disease and previous hip fractures",
    "Early stages often cause no symptoms, so the disease is frequently found only when the pain has already begun",
    "Magnetic resonance imaging detects the changes earlier than plain radiographs and is the preferred test",
    "Core decompression removes a cylinder of dead bone to lower the pressure inside the femoral head",
    "Some surgeons add a bone graft or concentrated bone marrow cells to the channel left by the drill",
    "Total hip replacement remains the usual treatment once the femoral head has collapsed",
    "We reviewed the records of all patients treated at our centre between January 2010 and December 2018",
    "Patients were eligible when the diagnosis had been confirmed by magnetic resonance imaging",
    "Pain was scored on a visual analogue scale from zero to ten at every visit",
    "Function was measured with the Harris hip score, which ranges from zero to one hundred points",
    "Two radiologists who did not know the treatment read every image independently",
    "Disagreements between the readers were settled by a third senior radiologist",
    "Continuous variables are given as means with standard deviations and compared with the t test",
    "A total of one hundred and twelve hips in eighty-six patients met the inclusion criteria",
    "The mean age at operation was forty-one years and most patients were men",
    "Pain scores fell from a mean of seven before the operation to a mean of three after two years",
    "The Harris hip score improved by an average of twenty-four points in the decompression group",
    "Nineteen hips progressed to collapse and needed a total hip replacement during follow-up",
    "Hips treated before collapse did markedly better than those treated after collapse had begun",
    "No deep infections or fractures of the femoral neck occurred after decompression",
    "Our results agree with earlier reports that joint-preserving surgery works best in the early stages",
    "The study is limited by its retrospective design and by the lack of a control group",
    "Patients were not randomised, so those chosen for surgery may have differed from the others",
    "Follow-up was shorter than five years for a third of the patients, which may hide late failures",
    "Larger randomised trials with longer follow-up are needed before firm advice can be given",
    "Patients should know that the benefit of decompression is uncertain once the femoral head has collapsed",
    "Smoking cessation and limiting alcohol may reduce the risk of the disease in the other hip",
    "Physiotherapy helps many patients to regain strength and range of motion after surgery",
    "The authors thank the patients who agreed to take part and the nurses of the orthopaedic ward",
    "This work received no specific grant from any funding agency in the public or commercial sectors",
]


MARKERS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth", "twentieth"]
SERIES = ["hospital", "clinic", "ward", "cohort", "registry", "survey", "trial", "audit", "review", "sample", "group", "panel"]


def _paragraphs(section_index: int, n: int) -> list[str]:
    """n paragraphs of 3-4 sentences, different for each section (no line repeats across pages)."""
    out = []
    for k in range(n):
        picked = [SENTENCES[(section_index * 7 + k * 3 + j * 5) % len(SENTENCES)] for j in range(4 - k % 2)]
        marker = f"This was the {MARKERS[k % len(MARKERS)]} note on the {SERIES[section_index % len(SERIES)]} data."
        out.append(" ".join(s + "." for s in picked) + " " + marker)
    return out


def make_article_pdf(path: Path, layout: str) -> dict:
    """A journal-like article with reportlab; returns its gold data (sections with anchors, furniture).

    ``two-column``: numbered headings without a dot ("2 Patients and methods", "2.1 Study
    design"), a running head that alternates between pages, "Page N of M" footers, a table
    and a figure caption. ``caps``: one column, ALL-CAPS headings, a copyright footer with
    the page number, bracketed references.
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph, Spacer, Table

    body = ParagraphStyle("body", fontName="Helvetica", fontSize=9, leading=11, alignment=4)
    head = ParagraphStyle("head", fontName="Helvetica-Bold", fontSize=10, leading=13, spaceBefore=6)
    title = ParagraphStyle("title", fontName="Helvetica-Bold", fontSize=15, leading=18)
    small = ParagraphStyle("small", fontName="Helvetica", fontSize=8, leading=10)
    width, height = A4
    story: list = []
    gold: dict = {"sections": [], "furniture": [], "references": 6}

    def section(name: str, shown: str, index: int, n: int) -> None:
        story.append(Paragraph(shown, head))
        paragraphs = _paragraphs(index, n)
        gold["sections"].append([name, " ".join(paragraphs[0].split()[:6])])
        story.extend(Paragraph(p, body) for p in paragraphs)

    story.append(Paragraph("Joint-preserving surgery for osteonecrosis of the femoral head", title))
    story.append(Paragraph("Anna Example<super>1</super>, Ben Sample<super>2</super>", small))
    story.append(Paragraph("<super>1</super> Department of Orthopaedics, Example University Hospital", small))
    caps = layout == "caps"
    names = [("Introduction", 6), ("Patients and methods", 5), ("Study design", 6), ("Results", 8),
             ("Discussion", 9), ("Conclusions", 3)]
    numbers = ["1", "2", "2.1", "3", "4", "5"]
    section("Abstract", "ABSTRACT" if caps else "Abstract", 0, 1)
    for i, ((name, n), number) in enumerate(zip(names, numbers), start=1):
        shown = name.upper() if caps else f"{number} {name}"
        section(name, shown, i, n)
        if name == "Results":
            story.append(Paragraph("Table 1 Outcomes before and after decompression", small))
            story.append(Table([["Measure", "Before", "After"], ["Pain score", "7.1", "3.2"],
                                ["Harris hip score", "52", "76"], ["Collapse", "0", "19"]]))
            gold["sections"].append(["Table 1", "Table 1 Outcomes before and after decompression"])
            story.append(Paragraph(_paragraphs(9, 1)[0], body))
            gold["sections"].append([name, " ".join(_paragraphs(9, 1)[0].split()[:6])])
            story.append(Paragraph("Fig. 1 Survival of the femoral head after core decompression.", small))
            gold["sections"].append(["Figures", "Fig. 1 Survival of the femoral head"])
            story.append(Paragraph(_paragraphs(10, 1)[0], body))
            gold["sections"].append([name, " ".join(_paragraphs(10, 1)[0].split()[:6])])
    story.append(Spacer(1, 6))
    story.append(Paragraph("REFERENCES" if caps else "References", head))
    refs = [
        "Mont MA, Hungerford DS. Non-traumatic avascular necrosis of the femoral head. J Bone Joint Surg Am. 1995;77:459-74.",
        "Hernigou P, Beaujean F. Treatment of osteonecrosis with autologous bone marrow grafting. Clin Orthop Relat Res. 2002;405:14-23.",
        "Marker DR, Seyler TM, Ulrich SD. Do modern techniques improve core decompression outcomes for hip osteonecrosis? Clin Orthop Relat Res. 2008;466:1093-103.",
        "Zalavras CG, Lieberman JR. Osteonecrosis of the femoral head: evaluation and treatment. J Am Acad Orthop Surg. 2014;22:455-64.",
        "Lieberman JR, Engstrom SM, Meneghini RM. Which factors influence preservation of the osteonecrotic femoral head? Clin Orthop Relat Res. 2012;470:525-34.",
        "Sultan AA, Mohamed N, Samuel LT. Classification systems of hip osteonecrosis: an updated review. Int Orthop. 2019;43:1089-95.",
    ]
    for i, ref in enumerate(refs, start=1):
        story.append(Paragraph(f"[{i}] {ref}" if caps else f"{i}. {ref}", small))
    gold["sections"].append(["References", "[1] Mont MA" if caps else "1. Mont MA"])

    def furniture(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        page = canvas.getPageNumber()
        if caps:
            canvas.drawString(56, 30, f"© 2019 Clinic Press. Orthopaedic Reviews 7(2):{100 + page}")
        else:
            running = "J Hip Surg (2021) 12:34-45" if page % 2 else "Example and Sample"
            canvas.drawString(56, height - 40, running)
            canvas.drawRightString(width - 56, 30, f"Page {page}")
        canvas.restoreState()

    if caps:
        frames = [Frame(56, 50, width - 112, height - 110, id="one")]
        gold["furniture"] = ["Clinic Press. Orthopaedic Reviews"]
    else:
        col = (width - 112 - 18) / 2
        frames = [Frame(56, 50, col, height - 110, id="left"), Frame(56 + col + 18, 50, col, height - 110, id="right")]
        gold["furniture"] = ["J Hip Surg (2021)", "Example and Sample", "Page 2"]
    doc = BaseDocTemplate(str(path), pagesize=A4, pageTemplates=[PageTemplate(id="p", frames=frames, onPage=furniture)])
    doc.build(story)
    return gold
