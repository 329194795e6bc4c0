SUMMARY = "HTTP request/response parser for C"
DESCRIPTION = "The HTTP message parser that Node.js used before llhttp; Gaffer's local \
API, CLI and gaffer-init use it (Debian ships it as libhttp-parser-dev)."
HOMEPAGE = "https://github.com/nodejs/http-parser"
SECTION = "libs"
LICENSE = "MIT"
LIC_FILES_CHKSUM = "file://LICENSE-MIT;md5=9bfa835d048c194ab30487af8d7b3778"

# The same archive as Debian's http-parser_2.9.4.orig.tar.gz.
SRC_URI = "https://github.com/nodejs/http-parser/archive/refs/tags/v${PV}.tar.gz;downloadfilename=${BP}.tar.gz"
SRC_URI[sha256sum] = "467b9e30fd0979ee301065e70f637d525c28193449e1b13fbcb1b1fab3ad224f"
S = "${UNPACKDIR}/${BP}"

do_configure[noexec] = "1"

do_compile() {
    oe_runmake library
}

do_install() {
    oe_runmake install DESTDIR=${D} PREFIX=${prefix} LIBDIR=${libdir} INCLUDEDIR=${includedir}
}

BBCLASSEXTEND = "native nativesdk"
