SUMMARY = "C++11/14/17 std::expected with functional-style extensions"
DESCRIPTION = "Header-only tl::expected, the version Debian 12 ships as libexpected-dev; \
Gaffer's base::Result is built on it."
HOMEPAGE = "https://github.com/TartanLlama/expected"
SECTION = "devel"
LICENSE = "CC0-1.0"
# The dedication in the header itself (the archive's COPYING is the full CC0 text).
LIC_FILES_CHKSUM = "file://include/tl/expected.hpp;beginline=7;endline=13;md5=4c450af8fbe3fe02709cb7dd8681c482"

SRC_URI = "https://github.com/TartanLlama/expected/archive/v${PV}.zip;downloadfilename=${BP}.zip"
SRC_URI[sha256sum] = "c1733556cbd3b532a02b68e2fbc2091b5bc2cccc279e4f6c6bd83877aabd4b02"
S = "${UNPACKDIR}/expected-${PV}"

# One header: upstream's CMake build needs a git submodule the release archive lacks.
do_configure[noexec] = "1"
do_compile[noexec] = "1"
do_install() {
    install -D -m 0644 ${S}/include/tl/expected.hpp ${D}${includedir}/tl/expected.hpp
}

ALLOW_EMPTY:${PN} = "1"
RDEPENDS:${PN}-dev = ""
BBCLASSEXTEND = "native nativesdk"
