/*
 * runts syscall-program interpreter, x86-64 (System V, Linux).
 *
 * Entered by glibc clone(fn, stack, flags, arg) in the new child with rdi = arg,
 * the address of a program prepared by TypeScript (src/linux/program.ts).
 * It executes the ops in order and never returns: the last op is execve or
 * exit_group. No libc, no JavaScript: V8's heap is not mapped in a clone child.
 *
 * header (48 bytes): u64 nOps, u64 opsAddr, u64 reportFd,
 *                    u32 failedOp, u32 errno, i64 result, u64 reserved
 * op (80 bytes):     u64 ctl, u64 nr, u64 a0..a5, u64 storeAddr, u64 aux
 * ctl bits: 0-5 arg i is the address of the value; 8 store result at storeAddr;
 *           9 store as 32 bits; 10 fail unless result == aux; 11 if result != 0
 *           jump to op aux; 12 ignore any error; 16-31 one errno to ignore;
 *           32-47 one errno that jumps to op aux; 48-63 a second errno to ignore.
 * On failure it writes the 16-byte record (op index, errno, result) to reportFd
 * and exits with status 1.
 */
        .intel_syntax noprefix
        .text
        .globl runts_interpreter
runts_interpreter:
        mov     r12, rdi                /* header */
        mov     r15, [r12]              /* nOps */
        mov     rbx, [r12 + 8]          /* ops base */
        xor     r13d, r13d              /* op index */
next_op:
        cmp     r13, r15
        jae     finished
        imul    r14, r13, 80
        add     r14, rbx
        mov     rcx, [r14]
        mov     rdi, [r14 + 16]
        test    cl, 1
        jz      1f
        mov     rdi, [rdi]
1:      mov     rsi, [r14 + 24]
        test    cl, 2
        jz      1f
        mov     rsi, [rsi]
1:      mov     rdx, [r14 + 32]
        test    cl, 4
        jz      1f
        mov     rdx, [rdx]
1:      mov     r10, [r14 + 40]
        test    cl, 8
        jz      1f
        mov     r10, [r10]
1:      mov     r8, [r14 + 48]
        test    cl, 16
        jz      1f
        mov     r8, [r8]
1:      mov     r9, [r14 + 56]
        test    cl, 32
        jz      1f
        mov     r9, [r9]
1:      mov     rax, [r14 + 8]
        syscall
        mov     rcx, [r14]              /* syscall clobbers rcx and r11 */
        cmp     rax, -4095
        jae     failed
        test    ch, 1
        jz      2f
        mov     rdx, [r14 + 64]
        test    ch, 2
        jnz     3f
        mov     [rdx], rax
        jmp     2f
3:      mov     [rdx], eax
2:      test    ch, 4
        jz      4f
        cmp     rax, [r14 + 72]
        je      4f
        xor     edx, edx                /* errno 0: unexpected result */
        jmp     report
4:      test    ch, 8
        jz      advance
        test    rax, rax
        jz      advance
        mov     r13, [r14 + 72]
        jmp     next_op
advance:
        inc     r13
        jmp     next_op
failed:
        mov     rdx, rax
        neg     rdx                     /* errno */
        test    ch, 16
        jnz     advance
        mov     r8, rcx
        shr     r8, 16
        and     r8, 0xffff
        cmp     rdx, r8
        je      advance
        mov     r8, rcx
        shr     r8, 48
        cmp     rdx, r8
        je      advance
        mov     r8, rcx
        shr     r8, 32
        and     r8, 0xffff
        cmp     rdx, r8
        jne     report
        mov     r13, [r14 + 72]
        jmp     next_op
report:
        mov     [r12 + 24], r13d
        mov     [r12 + 28], edx
        mov     [r12 + 32], rax
        mov     rdi, [r12 + 16]
        lea     rsi, [r12 + 24]
        mov     edx, 16
        mov     eax, 1                  /* write */
        syscall
        mov     edi, 1
        mov     eax, 231                /* exit_group */
        syscall
finished:
        xor     edi, edi
        mov     eax, 231
        syscall
        hlt
