/* placeholder for the concat suite */
int main(void) {
    return 0;
}
