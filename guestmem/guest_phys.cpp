// read_guest/write_guest: memslot walk building the remote iovecs, then one ProcessMemory batch.
#include "guestmem/guest_phys.hpp"

#include <cerrno>
#include <vector>

namespace kvmemu::guestmem {

namespace {

// Client ranges behind [gpa, gpa + size): 0 or EFAULT.
int translate(const mmu::MemslotSet& slots, std::uint64_t gpa, std::size_t size, bool write,
              std::vector<iovec>& remote) {
    std::size_t hint = 0;
    while (size > 0) {
        const mmu::Memslot* s = slots.find(gpa >> 12, hint);
        if (s == nullptr || (write && s->readonly())) return EFAULT;
        const std::uint64_t slot_end = s->end_gfn() << 12;
        const std::size_t n = slot_end - gpa < size ? static_cast<std::size_t>(slot_end - gpa) : size;
        remote.push_back({reinterpret_cast<void*>(s->gpa_to_hva(gpa)), n});
        gpa += n;
        size -= n;
    }
    return 0;
}

}  // namespace

int read_guest(const ProcessMemory& memory, const mmu::MemslotSet& slots, std::uint64_t gpa,
               std::span<std::byte> out) {
    std::vector<iovec> remote;
    if (int e = translate(slots, gpa, out.size(), false, remote); e != 0) return e;
    const iovec local{out.data(), out.size()};
    return memory.read_batch({&local, 1}, remote).error;
}

int write_guest(const ProcessMemory& memory, const mmu::MemslotSet& slots, std::uint64_t gpa,
                std::span<const std::byte> in) {
    std::vector<iovec> remote;
    if (int e = translate(slots, gpa, in.size(), true, remote); e != 0) return e;
    const iovec local{const_cast<std::byte*>(in.data()), in.size()};
    return memory.write_batch({&local, 1}, remote).error;
}

}  // namespace kvmemu::guestmem
