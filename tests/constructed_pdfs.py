"""PDFs the thumbnail tests construct: a one-page PDF written by hand from the PDF 1.7 format (ISO 32000-1, section 7:
objects, content streams, the cross-reference table), and the same page encrypted with a user password by the
standard security handler, revision 2 (40-bit RC4; section 7.6.3, algorithms 2, 3 and 4). Provenance: Adobe's public
copy of ISO 32000-1, https://opensource.adobe.com/dc-acrobat-sdk-docs/pdfstandards/PDF32000_2008.pdf"""

from __future__ import annotations

import hashlib

PADDING = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def _padded(password: bytes) -> bytes:
    return (password + PADDING)[:32]


def one_page_pdf(width: int = 612, height: int = 792, *, user_password: str | None = None) -> bytes:
    """A page of `width` × `height` points: a red band across its top, a blue square below it and a title in
    Helvetica; encrypted (so that it cannot be opened without `user_password`) when one is given."""
    content = (
        f"1 0 0 rg 0 {height - 120} {width} 120 re f\n"
        f"0 0 1 rg 100 {height - 400} 200 200 re f\n"
        f"BT /F1 24 Tf 0 g 72 {height - 160} Td (A paper made by a test) Tj ET\n"
    ).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>".encode(),
        None,  # the content stream, encrypted or not
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    trailer_extra = b""
    file_id = hashlib.md5(b"paperfeed test pdf").digest()
    key = None
    if user_password is not None:
        owner = _padded(b"owner")
        o_value = rc4(hashlib.md5(owner).digest()[:5], _padded(user_password.encode()))
        permissions = -44  # printing and copying refused: any value will do
        key = hashlib.md5(
            _padded(user_password.encode()) + o_value + permissions.to_bytes(4, "little", signed=True) + file_id
        ).digest()[:5]
        u_value = rc4(key, PADDING)
        objects.append(
            b"<< /Filter /Standard /V 1 /R 2 /O <"
            + o_value.hex().encode()
            + b"> /U <"
            + u_value.hex().encode()
            + b"> /P "
            + str(permissions).encode()
            + b" >>"
        )
        trailer_extra = f" /Encrypt {len(objects)} 0 R".encode()
    stream = content
    if key is not None:
        object_key = hashlib.md5(key + (4).to_bytes(3, "little") + (0).to_bytes(2, "little")).digest()[:10]
        stream = rc4(object_key, content)
    objects[3] = f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream"
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R".encode() + trailer_extra
    out += b" /ID [<" + file_id.hex().encode() + b"> <" + file_id.hex().encode() + b">] >>\n"
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
