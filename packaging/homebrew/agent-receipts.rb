# Homebrew formula TEMPLATE. `bun scripts/build.ts --all` writes the filled
# formula to dist/release/agent-receipts.rb (only when all four targets are
# built); publish that one, not this file. The build drops this leading comment
# and replaces, everywhere below:
#   @VERSION@               "version" from package.json, e.g. 0.1.0
#   @URL_<OS>_<ARCH>@       <release base>/agent-receipts-<version>-<os>-<arch>.tar.gz,
#                           base from --release-url (default
#                           https://github.com/agent-receipts/agent-receipts/releases/download/v<version>)
#   @SHA256_<OS>_<ARCH>@    that tarball's sha256, as in dist/release/SHA256SUMS
# with <OS>_<ARCH> one of DARWIN_ARM64, DARWIN_X64, LINUX_ARM64, LINUX_X64.
# Placeholders sit inside strings so this template passes `ruby -c` too.
class AgentReceipts < Formula
  desc "Signed, hash-chained, verifiable receipts for every tool call an AI agent makes"
  homepage "https://agentreceipts.ai"
  version "@VERSION@"
  license "Apache-2.0"

  on_macos do
    on_arm do
      url "@URL_DARWIN_ARM64@"
      sha256 "@SHA256_DARWIN_ARM64@"
    end
    on_intel do
      url "@URL_DARWIN_X64@"
      sha256 "@SHA256_DARWIN_X64@"
    end
  end

  on_linux do
    on_arm do
      url "@URL_LINUX_ARM64@"
      sha256 "@SHA256_LINUX_ARM64@"
    end
    on_intel do
      url "@URL_LINUX_X64@"
      sha256 "@SHA256_LINUX_X64@"
    end
  end

  # The tarball's single top directory is stripped on unpack: the binary is at the top.
  def install
    bin.install "agent-receipts"
  end

  # launchd restarts the daemon whenever it exits unsuccessfully (an uncaught
  # error exits non-zero; "crashed: true" would only cover signals), not after
  # `brew services stop`. Homebrew's systemd unit on Linux has no restart for this.
  service do
    run [opt_bin/"agent-receipts", "daemon", "--log-format", "json"]
    keep_alive successful_exit: false
    log_path var/"log/agent-receipts.log"
    error_log_path var/"log/agent-receipts.log"
  end

  test do
    assert_equal version.to_s, shell_output("#{bin}/agent-receipts --version").strip
  end
end
