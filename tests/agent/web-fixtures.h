#pragma once
// Fixtures for the web tools' tests: a real HTTP server on 127.0.0.1 (Debian's cpp-httplib)
// whose handlers the tests add, and a small valid PDF written byte by byte.
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace muse::test {

class web_server {
  public:
    web_server() {
        port_   = server_.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        for (int i = 0; i < 5000 && !server_.is_running(); i++) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }

    ~web_server() {
        stopping = true;  // slow handlers look at this and end, so stop() does not wait for them
        server_.stop();
        thread_.join();
    }

    int               port() const { return port_; }
    std::string       host_port() const { return "127.0.0.1:" + std::to_string(port_); }
    std::string       base() const { return "http://" + host_port(); }
    httplib::Server & http() { return server_; }

    std::atomic<bool> stopping { false };
    std::atomic<int>  hits { 0 };

  private:
    httplib::Server server_;
    int             port_ = 0;
    std::thread     thread_;
};

// A PDF with one page per string (Helvetica, one line of text each), offsets computed here.
// `encrypted`: an /Encrypt dictionary whose user password is not the empty one.
inline std::string pdf_make(const std::vector<std::string> & pages, const std::string & title = "",
                            bool encrypted = false) {
    std::vector<std::string> objs;
    const size_t             n = pages.size();
    objs.push_back("<< /Type /Catalog /Pages 2 0 R >>");
    std::string kids;
    for (size_t i = 0; i < n; i++)
        kids += std::to_string(4 + 2 * i) + " 0 R ";
    objs.push_back("<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(n) + " >>");
    objs.push_back("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
    for (size_t i = 0; i < n; i++) {
        objs.push_back(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            "/Contents " +
            std::to_string(5 + 2 * i) + " 0 R >>");
        const std::string stream = "BT /F1 18 Tf 72 700 Td (" + pages[i] + ") Tj ET";
        objs.push_back("<< /Length " + std::to_string(stream.size()) + " >>\nstream\n" + stream + "\nendstream");
    }
    const size_t info = objs.size() + 1;
    objs.push_back("<< /Title (" + title + ") >>");
    const std::string hex32 = "<" + std::string(64, 'A') + ">";
    const size_t      enc   = objs.size() + 1;
    if (encrypted)
        objs.push_back("<< /Filter /Standard /V 1 /R 2 /O " + hex32 + " /U " + hex32 + " /P -4 >>");
    std::string         out = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
    std::vector<size_t> offsets;
    for (size_t i = 0; i < objs.size(); i++) {
        offsets.push_back(out.size());
        out += std::to_string(i + 1) + " 0 obj\n" + objs[i] + "\nendobj\n";
    }
    const size_t xref = out.size();
    out += "xref\n0 " + std::to_string(objs.size() + 1) + "\n0000000000 65535 f \n";
    for (size_t off : offsets) {
        char line[32];
        std::snprintf(line, sizeof(line), "%010zu 00000 n \n", off);
        out += line;
    }
    out += "trailer\n<< /Size " + std::to_string(objs.size() + 1) + " /Root 1 0 R /Info " + std::to_string(info) +
           " 0 R" +
           (encrypted ? " /Encrypt " + std::to_string(enc) +
                            " 0 R /ID [<0123456789ABCDEF0123456789ABCDEF> "
                            "<0123456789ABCDEF0123456789ABCDEF>]"
                      : std::string()) +
           " >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
    return out;
}

}  // namespace muse::test
