SUMMARY = "Gaffer edge device coordinator for IoT gateways"
DESCRIPTION = "gafferd runs local tasks in cgroup and namespace environments, \
coordinates the gateway's devices over MQTT through the local mosquitto broker \
and takes its task definitions from the cloud. With the gaffer CLI, gaffer-init, \
example tasks, the systemd units and the broker's dynamic-security setup."
HOMEPAGE = "https://gaffer.invalid/"
SECTION = "net"
LICENSE = "Apache-2.0"
# The project's license is declared in meson.build's project(); line 3 is that declaration.
LIC_FILES_CHKSUM = "file://LICENSE;md5=3b83ef96387f14655fc854ddc3c6bd57"

# Where the sources come from: by default the git checkout that holds this layer (see
# conf/layer.conf), at its newest commit on GAFFER_GIT_BRANCH. For a release image set,
# e.g. in local.conf:
#   GAFFER_GIT_URI = "git://git.example.com/gaffer.git;protocol=https"
#   GAFFER_SRCREV = "<40-hex commit>"
GAFFER_GIT_URI ??= "git://${GAFFER_SOURCE_CHECKOUT};protocol=file"
GAFFER_GIT_BRANCH ??= "main"
GAFFER_SRCREV ??= "${AUTOREV}"
# destsuffix=${BP} and no S assignment: the source lands in the default S on every release
# from scarthgap (S = ${WORKDIR}/${BP}) to whinlatter (S = ${UNPACKDIR}/${BP}).
SRC_URI = "${GAFFER_GIT_URI};branch=${GAFFER_GIT_BRANCH};destsuffix=${BP}"
SRCREV = "${GAFFER_SRCREV}"
PV = "0.1.0+git"

# Every dependency() and find_library() of the meson build. paho-mqtt-cpp ships no
# pkg-config file (neither in Debian nor in meta-oe): meson finds it through its CMake
# package, hence cmake-native. tl-expected and http-parser come from this layer. mosquitto:
# the ingest plugin builds against its headers (mosquitto_broker.h, libmosquitto.pc).
DEPENDS = "\
    cli11 \
    cmake-native \
    http-parser \
    libcap \
    libcgroup \
    libtoml11 \
    libuv \
    mosquitto \
    nlohmann-json \
    paho-mqtt-c \
    paho-mqtt-cpp \
    sqlite3 \
    tl-expected \
"

inherit meson pkgconfig systemd useradd

# Tests and benchmarks are CI's job, not the image's.
EXTRA_OEMESON = "-Dtests=false"

do_install:append() {
    # The Debian package ships docs/*.md through dh_installdocs; install the same here.
    install -d ${D}${docdir}/gaffer
    install -m 0644 ${S}/docs/*.md ${D}${docdir}/gaffer/
}

# The same accounts as packaging/sysusers/gaffer.conf, created when the image is built.
USERADD_PACKAGES = "${PN}"
GROUPADD_PARAM:${PN} = "--system gaffer"
USERADD_PARAM:${PN} = "--system --user-group --no-create-home --home-dir / \
    --shell ${base_sbindir}/nologin --comment 'Gaffer task runner' gaffer-task"

# gaffer-broker-init.service creates the broker's dynamic-security file and gafferd's
# admin secret at first boot (a Debian postinst does it at install time).
SYSTEMD_SERVICE:${PN} = "gafferd.service gaffer-broker-init.service"
SYSTEMD_AUTO_ENABLE:${PN} = "enable"

FILES:${PN} += "\
    ${sysconfdir}/gaffer/gaffer.toml \
    ${sysconfdir}/gaffer/mosquitto-ingest.conf \
    ${sysconfdir}/mosquitto/conf.d/gaffer.conf \
    ${libexecdir}/gaffer/gaffer-init \
    ${libexecdir}/gaffer/gaffer-broker-init \
    ${libexecdir}/gaffer/gaffer-mqtt-paho.so \
    ${libexecdir}/gaffer/gaffer-mosquitto-ingest.so \
    ${datadir}/gaffer/examples \
    ${nonarch_libdir}/sysusers.d/gaffer.conf \
    ${nonarch_libdir}/tmpfiles.d/gaffer.conf \
    ${systemd_system_unitdir}/gafferd.service \
    ${systemd_system_unitdir}/gaffer-broker-init.service \
"
FILES:${PN}-doc += "${docdir}/gaffer"
CONFFILES:${PN} = "\
    ${sysconfdir}/gaffer/gaffer.toml \
    ${sysconfdir}/gaffer/mosquitto-ingest.conf \
    ${sysconfdir}/mosquitto/conf.d/gaffer.conf \
"

# As the Debian package does: the ingest plugin's broker config is linked into conf.d when
# the package is installed and unlinked before it is removed (a broker told to load a plugin
# file that is gone does not start).
pkg_postinst:${PN}() {
    if [ ! -e $D${sysconfdir}/mosquitto/conf.d/gaffer-ingest.conf ]; then
        ln -s ${sysconfdir}/gaffer/mosquitto-ingest.conf $D${sysconfdir}/mosquitto/conf.d/gaffer-ingest.conf
    fi
}
pkg_prerm:${PN}() {
    if [ -L $D${sysconfdir}/mosquitto/conf.d/gaffer-ingest.conf ]; then
        rm -f $D${sysconfdir}/mosquitto/conf.d/gaffer-ingest.conf
    fi
}

# mosquitto carries the broker, its dynamic-security plugin and mosquitto_ctrl, which
# gaffer-broker-init runs. util-linux's setpriv/nsenter are not needed: gaffer-init does
# its own namespace work.
RDEPENDS:${PN} = "mosquitto"
