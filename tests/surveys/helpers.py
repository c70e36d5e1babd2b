"""Data shared by the survey tests (test modules import from here, never from one another)."""


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40


GIF = b"GIF89a" + b"\x00" * 40


WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
