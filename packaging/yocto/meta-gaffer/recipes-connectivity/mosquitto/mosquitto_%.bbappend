# Gaffer's broker settings live in /etc/mosquitto/conf.d/gaffer.conf (shipped by the gaffer
# package). Debian's mosquitto.conf reads conf.d; the upstream file that the mosquitto
# recipe installs does not, so add the include here (once).
do_install:append() {
    install -d ${D}${sysconfdir}/mosquitto/conf.d
    if ! grep -q '^include_dir ${sysconfdir}/mosquitto/conf.d$' ${D}${sysconfdir}/mosquitto/mosquitto.conf; then
        printf '\n# Added by meta-gaffer: local configuration snippets.\ninclude_dir %s\n' \
            '${sysconfdir}/mosquitto/conf.d' >> ${D}${sysconfdir}/mosquitto/mosquitto.conf
    fi
}
FILES:${PN} += "${sysconfdir}/mosquitto/conf.d"
