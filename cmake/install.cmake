# `cmake --install` and `cpack -G DEB`: the binary, the man page, bash and zsh completion, the
# server profiles (found by name at run time, see src/profile_search.hpp) and the README.

# Debian policy: man pages and changelogs are installed gzip -9n compressed (no name, no time
# stamp in the header, so the .deb is reproducible).
find_program(SMTPPROBE_GZIP gzip REQUIRED)
set(SMTPPROBE_MAN_GZ ${CMAKE_CURRENT_BINARY_DIR}/generated/smtpprobe.1.gz)
set(SMTPPROBE_CHANGELOG_GZ ${CMAKE_CURRENT_BINARY_DIR}/generated/changelog.gz)
add_custom_command(OUTPUT ${SMTPPROBE_MAN_GZ}
    COMMAND ${SMTPPROBE_GZIP} -9nc ${CMAKE_CURRENT_SOURCE_DIR}/data/man/smtpprobe.1 > ${SMTPPROBE_MAN_GZ}
    DEPENDS data/man/smtpprobe.1 VERBATIM)
add_custom_command(OUTPUT ${SMTPPROBE_CHANGELOG_GZ}
    COMMAND ${SMTPPROBE_GZIP} -9nc ${CMAKE_CURRENT_SOURCE_DIR}/data/debian/changelog > ${SMTPPROBE_CHANGELOG_GZ}
    DEPENDS data/debian/changelog VERBATIM)
add_custom_target(smtpprobe_docs ALL DEPENDS ${SMTPPROBE_MAN_GZ} ${SMTPPROBE_CHANGELOG_GZ})
# `cpack` (and the `install` target) install what is built instead of building every target
# first: the test binaries are not in the package, and building them only for it cost a fresh
# machine minutes. scripts/check-package.sh builds what the package holds (smtpprobe,
# smtpprobe_docs) before cpack.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

install(TARGETS smtpprobe RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${SMTPPROBE_MAN_GZ} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES data/completion/smtpprobe.bash
    DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME smtpprobe)
# Debian's zsh reads /usr/share/zsh/vendor-completions (with --prefix /usr, as the package
# does); under another prefix add <prefix>/share/zsh/vendor-completions to fpath.
install(FILES data/completion/_smtpprobe DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
install(DIRECTORY samples/servers/ DESTINATION ${CMAKE_INSTALL_DATADIR}/smtpprobe/profiles
    FILES_MATCHING PATTERN "*.json")
install(FILES README.md data/debian/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${SMTPPROBE_CHANGELOG_GZ} DESTINATION ${CMAKE_INSTALL_DOCDIR})

# ---------------------------------------------------------------------------------- package
set(SMTPPROBE_DEB_MAINTAINER "smtpprobe maintainers <maintainers@users.noreply.r-seed-face4c8c.example>"
    CACHE STRING "Maintainer field of the .deb")
set(CPACK_PACKAGE_NAME smtpprobe)
set(CPACK_PACKAGE_VENDOR "smtpprobe")
set(CPACK_PACKAGE_CONTACT ${SMTPPROBE_DEB_MAINTAINER})
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_GENERATOR DEB)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # smtpprobe_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${SMTPPROBE_DEB_MAINTAINER})
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "SMTP AUTH capability diagnostic")
# The extended description (the synopsis above is its first line in the control file).
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "smtpprobe tells, per SASL mechanism, what an SMTP submission server really
does with AUTH: whether a mechanism is advertised before or after STARTTLS,
whether the server recognises it (334) or not (504 5.7.4) and, with
credentials, whether they are accepted. It probes mechanisms the server does
not advertise too, checks the TLS certificate, and explains every reply code.
.
Output is a text report, JSON or a Nagios/Icinga plugin line. Passwords and
tokens never appear in any output. A built-in emulator (smtpprobe emulate)
serves the shipped server profiles, e.g. Azure Communication Services.")
# Files are root-owned in the package whoever builds it.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
