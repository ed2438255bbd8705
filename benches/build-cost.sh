#!/usr/bin/env bash
# The build cost a user pays: clean debug builds of a small bot crate that depends on matterapi
# (default features, and the bot feature set), and of the same crate depending on the
# `mattermost_api` crate instead, one after the other in one run on this machine.
#
# For each: CPU time (user + sys of the whole `cargo build`, every rustc, build script and C
# compiler included), wall time, the peak memory of the largest single process (`/usr/bin/time`'s
# maximum resident set size: on matterapi's builds it is rustc compiling matterapi) and the peak of
# all build processes together (sampled every 0.2 s). Then matterapi's own part: `cargo clean -p
# matterapi` and build again (its build script, which runs progenitor, and rustc on the crate).
#
#   bash benches/build-cost.sh            # all three builds (about 15 minutes on 2 cores)
#   bash benches/build-cost.sh default    # or any of: default default-blocking-calls bot
#                                         # bot-native-tls default-nodebug mattermost_api
#
# The scratch crates and their target folders are made under a temporary folder and removed after.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/matterapi-build-cost.XXXXXX")
trap 'rm -rf "$work"' EXIT
which=("$@")
[ ${#which[@]} -gt 0 ] || which=(default bot bot-native-tls mattermost_api)

bot_features='"rustls", "users", "teams", "channels", "posts", "files"'

# A bot crate calling ten operations through the blocking client (compiled, never run): the
# blocking twins' sending methods are inline, so their cost is paid where they are called.
blocking_main='fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().len() < 100 {
        return Ok(());
    }
    let c = matterapi::blocking::Client::from_options(matterapi::Options::from_json(
        r#"{"url": "http://127.0.0.1:8065"}"#,
    )?)?;
    c.get_user().user_id("me").send()?;
    c.get_users().send()?;
    c.get_user_by_username().username("u").send()?;
    c.get_teams_for_user().user_id("me").send()?;
    c.get_team().team_id("t").send()?;
    c.get_public_channels_for_team().team_id("t").send()?;
    c.get_channel().channel_id("c").send()?;
    c.get_channel_members().channel_id("c").send()?;
    c.get_post().post_id("p").send()?;
    c.get_posts_for_channel().channel_id("c").send()?;
    Ok(())
}'

make_crate() { # name, dependency line[, extra manifest[, main.rs]]
    mkdir -p "$work/$1/src"
    cat >"$work/$1/Cargo.toml" <<EOF
[package]
name = "bot-$1"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
$2
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }

[workspace]
${3:-}
EOF
    printf '%s\n' "${4:-fn main() {\}}" >"$work/$1/src/main.rs"
    # The matterapi builds resolve to the versions this repository is tested with.
    case "$1" in
    mattermost_api) ;;
    *) cp "$repo/Cargo.lock" "$work/$1/Cargo.lock" ;;
    esac
}

# Sum of the resident memory of every build process, sampled until the file $1 exists.
sample_peak() {
    local stop=$1 peak=0 now
    while [ ! -e "$stop" ]; do
        now=$(ps -e -o rss=,comm= | awk '$2 ~ /^(rustc|cc|c\+\+|cc1|cc1plus|as|ld|cargo|build[-_]script|build-script-bu)/ { s += $1 } END { print s + 0 }')
        [ "$now" -gt "$peak" ] && peak=$now
        sleep 0.2
    done
    echo "$peak" >"$stop.peak"
}

measure() { # label, crate folder, extra cargo arguments...
    local label=$1 dir=$2
    shift 2
    local stop="$work/stop.$RANDOM"
    sample_peak "$stop" &
    local sampler=$!
    # CARGO_INCREMENTAL=0: matterapi is built as a registry dependency is (a path dependency would
    # be built incrementally, which costs more memory).
    (cd "$dir" && CARGO_INCREMENTAL=0 CARGO_TARGET_DIR="$dir/target" /usr/bin/time -f '%U %S %e %M' -o "$work/time" \
        cargo build --quiet "$@")
    touch "$stop"
    wait "$sampler"
    read -r user sys wall maxrss <"$work/time"
    local all
    all=$(cat "$stop.peak")
    awk -v l="$label" -v u="$user" -v s="$sys" -v w="$wall" -v m="$maxrss" -v a="$all" 'BEGIN {
        printf "| %s | %.0f s | %.0f s | %.2f GB | %.2f GB |\n", l, u + s, w, m / 1048576, a / 1048576 }'
}

echo "| build | CPU (user + sys) | wall | peak, largest process | peak, all build processes |"
echo "| --- | ---: | ---: | ---: | ---: |"
for w in "${which[@]}"; do
    case "$w" in
    default)
        make_crate default "matterapi = { path = \"$repo\" }"
        measure "matterapi, default features: clean build" "$work/default"
        (cd "$work/default" && CARGO_TARGET_DIR="$work/default/target" cargo clean --quiet -p matterapi)
        measure "matterapi, default features: matterapi alone" "$work/default"
        ;;
    bot)
        make_crate bot "matterapi = { path = \"$repo\", default-features = false, features = [$bot_features] }"
        measure "matterapi, bot set: clean build" "$work/bot"
        (cd "$work/bot" && CARGO_TARGET_DIR="$work/bot/target" cargo clean --quiet -p matterapi)
        measure "matterapi, bot set: matterapi alone" "$work/bot"
        ;;
    default-blocking-calls)
        make_crate default-blocking-calls "matterapi = { path = \"$repo\" }" "" "$blocking_main"
        measure "matterapi, default features, ten blocking calls: clean build" "$work/default-blocking-calls"
        (cd "$work/default-blocking-calls" && touch src/main.rs)
        measure "matterapi, default features, ten blocking calls: the bot crate alone" "$work/default-blocking-calls"
        ;;
    bot-native-tls)
        make_crate bot-native-tls "matterapi = { path = \"$repo\", default-features = false, features = [${bot_features/\"rustls\"/\"native-tls\"}] }"
        measure "matterapi, bot set with native-tls: clean build" "$work/bot-native-tls"
        ;;
    default-nodebug)
        make_crate default-nodebug "matterapi = { path = \"$repo\" }" "$(printf '[profile.dev.package.matterapi]\ndebug = false')"
        measure "matterapi, default features, no debuginfo for matterapi: clean build" "$work/default-nodebug"
        ;;
    mattermost_api)
        make_crate mattermost_api 'mattermost_api = "0.8"'
        measure "mattermost_api 0.8: clean build" "$work/mattermost_api"
        ;;
    *)
        echo "unknown build: $w (default, default-blocking-calls, bot, bot-native-tls, default-nodebug, mattermost_api)" >&2
        exit 2
        ;;
    esac
done
