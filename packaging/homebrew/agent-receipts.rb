# Homebrew formula template. scripts/build.ts --all writes the release binaries
# and SHA256SUMS; fill url/sha256 from them when publishing a release.
class AgentReceipts < Formula
  desc "Signed, hash-chained, verifiable receipts for every tool call an AI agent makes"
  homepage "https://agentreceipts.ai"
  version "0.1.0"
  license "Apache-2.0"

  on_macos do
    on_arm do
      url "https://example.invalid/agent-receipts/v0.1.0/agent-receipts-darwin-arm64"
      sha256 "REPLACE_WITH_SHA256SUMS_ENTRY"
    end
    on_intel do
      url "https://example.invalid/agent-receipts/v0.1.0/agent-receipts-darwin-x64"
      sha256 "REPLACE_WITH_SHA256SUMS_ENTRY"
    end
  end

  def install
    bin.install Dir["agent-receipts-*"].first => "agent-receipts"
  end

  service do
    run [opt_bin/"agent-receipts", "daemon", "--log-format", "json"]
    keep_alive successful_exit: false
    log_path var/"log/agent-receipts.log"
    error_log_path var/"log/agent-receipts.log"
  end

  test do
    assert_match version.to_s, shell_output("#{bin}/agent-receipts --version")
    assert_equal '{"frame_version":{"min":1,"max":1}}', shell_output("#{bin}/agent-receipts daemon --protocol-version").strip
  end
end
