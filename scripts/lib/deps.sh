# deps.sh - the Debian packages this project needs to build and test, and a function that
# installs the missing ones. Sourced by scripts/test.sh and scripts/quickstart.sh.

# Extend this list when a new build or test dependency appears.
AIFX_DEBIAN_PACKAGES="build-essential cmake pkg-config libopenblas-dev liblapacke-dev check clang libpq-dev postgresql libplplot-dev plplot-driver-cairo clang-format cppcheck python3-numpy python3-scipy strace libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev wrk python3 chromium libjs-chart.js"

# aifx_missing_packages: prints the packages of AIFX_DEBIAN_PACKAGES not installed, one a line.
aifx_missing_packages() {
    local pkg
    for pkg in $AIFX_DEBIAN_PACKAGES; do
        if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]; then
            echo "$pkg"
        fi
    done
}

# aifx_ensure_packages: installs the missing packages when running as root; otherwise names
# them and returns 1. Does nothing when everything is there.
aifx_ensure_packages() {
    local missing
    if ! command -v dpkg-query >/dev/null 2>&1; then
        echo "deps: dpkg-query not found; this script expects Debian 12. Install by hand:" >&2
        echo "deps:   $AIFX_DEBIAN_PACKAGES" >&2
        return 1
    fi
    missing="$(aifx_missing_packages | tr '\n' ' ')"
    missing="${missing% }"
    if [ -z "$missing" ]; then
        echo "deps: all packages present ($AIFX_DEBIAN_PACKAGES)"
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        echo "deps: missing Debian packages: $missing" >&2
        echo "deps: install them as root: apt-get install $missing" >&2
        return 1
    fi
    echo "deps: installing $missing"
    apt-get update
    # shellcheck disable=SC2086 # word splitting of the package list is intended
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
}
